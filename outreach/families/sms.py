"""Text messages go out through an adapter chosen by settings, as email does through Django's
email backend: `console` (the demo: printed), `file` (one JSON line per message in
SMS_FILE_PATH) and `http` (a real provider: POST JSON to SMS_HTTP_URL with a bearer token).

    SMS_BACKEND=http SMS_HTTP_URL=https://sms.example.org/messages SMS_HTTP_TOKEN=… SMS_FROM=+19195550100

Any adapter raises SmsError when a message cannot be handed over; the outbox retries it.
"""

import json
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings


class SmsError(Exception):
    pass


class ConsoleSms:
    def send(self, *, to: str, body: str) -> str:
        sys.stdout.write(f"SMS to {to}: {body}\n")
        return "console"


class FileSms:
    _lock = threading.Lock()

    def __init__(self, path: str):
        self.path = Path(path)

    def send(self, *, to: str, body: str) -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"to": to, "body": body}, ensure_ascii=False) + "\n")
        return "file"


class HttpSms:
    def __init__(self, url: str, token: str, sender: str, timeout: float = 10):
        self.url, self.token, self.sender, self.timeout = url, token, sender, timeout

    def send(self, *, to: str, body: str) -> str:
        payload = json.dumps({"from": self.sender, "to": to, "body": body}).encode()
        request = urllib.request.Request(
            self.url,
            data=payload,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - configured URL
                answer = response.read().decode() or "{}"
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise SmsError(f"SMS provider: {error}") from error
        try:
            return str(json.loads(answer).get("id", ""))
        except ValueError:
            return ""


def sms_backend():
    kind = getattr(settings, "SMS_BACKEND", "console")
    if kind == "file":
        return FileSms(settings.SMS_FILE_PATH)
    if kind == "http":
        return HttpSms(settings.SMS_HTTP_URL, settings.SMS_HTTP_TOKEN, settings.SMS_FROM)
    return ConsoleSms()
