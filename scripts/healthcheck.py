"""Container health check for the web service: GET /healthz (which runs a query) on gunicorn.

With DEBUG=0 Django redirects plain HTTP to HTTPS and rejects hosts outside ALLOWED_HOSTS, so
the probe says it came through the TLS proxy and names a host the app accepts.
Exit 0 when healthy, 1 otherwise. Usage: python scripts/healthcheck.py [url]
"""

import os
import sys
import urllib.request


def probe_host(allowed_hosts: str) -> str:
    for host in (h.strip() for h in allowed_hosts.split(",")):
        if host and host != "*":
            return host.lstrip(".")
    return "localhost"


def main() -> int:
    url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/healthz"
    headers = {"Host": probe_host(os.environ.get("ALLOWED_HOSTS", "")), "X-Forwarded-Proto": "https"}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
            return 0 if response.status == 200 else 1
    except Exception as error:  # any failure means unhealthy; say why in the container's health log
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
