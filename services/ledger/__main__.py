"""Run the ledger service alone (needs REDIS_URL).

python -m services.ledger [--insecure-dev]
"""

from runtime.main import run
from services.ledger import registrations

if __name__ == "__main__":
    run("ledger", registrations, lambda settings: settings.ledger_port)
