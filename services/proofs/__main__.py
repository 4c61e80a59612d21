"""Run the proofs service alone (needs REDIS_URL).

python -m services.proofs [--insecure-dev]
"""

from runtime.main import run
from services.proofs import registrations

if __name__ == "__main__":
    run("proofs", registrations, lambda settings: settings.proofs_port)
