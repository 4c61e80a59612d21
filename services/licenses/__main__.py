"""Run the licenses service alone (needs REDIS_URL).

python -m services.licenses [--insecure-dev]
"""

from runtime.main import run
from services.licenses import registrations

if __name__ == "__main__":
    run("licenses", registrations, lambda settings: settings.licenses_port)
