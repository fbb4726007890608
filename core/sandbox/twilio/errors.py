"""Twilio's error responses: ``{code, message, more_info, status}``, also for faults."""

from __future__ import annotations

from http import HTTPStatus

from starlette.responses import JSONResponse, Response

from praxis.core.sandbox.harness import Fault


class TwilioError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JSONResponse:
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if self.status == 401 else {}
        body = {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
        return JSONResponse(body, status_code=self.status, headers=headers)


class NotModelled(TwilioError):
    """A request the fake cannot answer as Twilio would: fail loudly rather than guess."""

    def __init__(self, what: str) -> None:
        super().__init__(501, 0, f"the fake Twilio does not model {what}")


def fault_response(fault: Fault) -> Response:
    """Twilio's error shape for an injected fault: 20429, 20500, 20503..."""
    response = TwilioError(
        fault.status, 20000 + fault.status, HTTPStatus(fault.status).phrase
    ).response()
    if fault.retry_after:
        response.headers["Retry-After"] = str(fault.retry_after)
    return response
