"""Map domain errors to HTTP: JSON under /api and /healthz, a short HTML page elsewhere."""

from __future__ import annotations

import html
import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.lang import asked_lang
from app.services.errors import Invalid, ServiceError, in_chinese
from app.services.exams import SpecInvalid
from app.services.instances import ParamsInvalid

log = logging.getLogger("dlgrader")

DB_DOWN = "The database is not answering; nothing was saved. Try again in a moment."
DATA_REFUSED = (
    "A value in the request cannot be stored (a NUL character in text, or text longer than its field "
    "allows); nothing was saved."
)


def wants_json(request: Request) -> bool:
    path = request.url.path
    return (
        path.startswith("/api")
        or path == "/healthz"
        or "application/json" in request.headers.get("accept", "")
    )


# The course is taught in Chinese: an error page says what happened in zh first, the detail after.
_ZH = {
    400: "请求有误。",
    403: "您没有权限执行此操作。",
    404: "找不到此页面。",
    405: "不支持此请求方法。",
    413: "提交的内容过大。",
    422: "输入有误，请检查后重试。",
    429: "尝试次数过多，请稍后再试。",
    500: "服务器内部错误，已记录。",
    503: "数据库暂时无法连接，未保存任何内容，请稍后重试。",
}


# Details a student meets on a page, said in Chinese in place of the generic line.
_ZH_DETAIL = {
    "this needs the ta or instructor role": "此页面仅限助教和教师使用。",
    "this needs the instructor role": "此操作仅限教师。",
}


def _page(status: int, message: str) -> HTMLResponse:
    """A page for a browser: the site's style, what happened in Chinese, the detail as given (often
    English, or already both), and the way on. No database is touched: it may be what failed."""
    zh = _ZH_DETAIL.get(message) or _ZH.get(status, "")
    login = "登录 / Log in" if status == 401 else "换个账号登录 / Log in as someone else"  # 403: logged in
    way_on = "<a href='/'>首页 / Home</a>" + (
        f" · <a href='/login'>{login}</a>" if status in (401, 403) else ""
    )
    body = (
        "<!doctype html><html lang=zh-CN><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>{status} · 深度学习练习与评测</title><link rel=stylesheet href='/static/app.css'>"
        "<header class=top><nav><a class=brand href='/'>深度学习练习与评测</a></nav></header>"
        f"<main id=main><h1>{status}</h1>"
        + (f"<p>{zh}</p>" if zh else "")
        + f"<p class=note>{html.escape(message)}</p><p>{way_on}</p></main>"
    )
    return HTMLResponse(body, status_code=status)


def _validation_msg(error: Any, zh: bool) -> str:
    """A body's error as the API says it: English, or Chinese for a caller who asks (a check of our
    own carries its Chinese in ctx, pydantic's stock messages are translated)."""
    msg = str(error.get("msg", ""))
    if not zh:
        return msg
    ctx = error.get("ctx") or {}
    if isinstance(ctx.get("zh"), str) and isinstance(ctx.get("field"), str):
        return f"{ctx['field']}: {ctx['zh']}"
    return in_chinese(msg)


def error_response(request: Request, status: int, message: str, detail: object = None) -> Response:
    if wants_json(request):
        return JSONResponse({"detail": detail if detail is not None else message}, status_code=status)
    return _page(status, message)


def install(app: FastAPI) -> None:
    @app.exception_handler(ParamsInvalid)
    def _params(request: Request, exc: ParamsInvalid) -> Response:
        detail = [
            {
                "loc": ["body", "params", *e["loc"]],
                "msg": e["msg"],
                "type": e.get("type", "value_error"),
            }
            for e in exc.errors
        ]
        return error_response(request, 422, exc.message, detail)

    @app.exception_handler(SpecInvalid)
    def _spec(request: Request, exc: SpecInvalid) -> Response:
        """Every error of an exam's spec, each located as it was when it came alone: a param by its
        path, the rest by their dotted field with it before the message."""
        lang = "zh" if asked_lang(request) == "zh" else "en"
        detail = [
            {"loc": ["body", *e.loc], "msg": e.said[lang], "type": e.type}
            if e.loc[2:3] == ("params",)
            else {"loc": ["body", e.path], "msg": f"{e.path}: {e.said[lang]}", "type": e.type}
            for e in exc.errors
        ]
        return error_response(request, 422, "; ".join(exc.lines(lang)), detail)

    @app.exception_handler(ServiceError)
    def _service(request: Request, exc: ServiceError) -> Response:
        message = exc.message
        if exc.said and asked_lang(request) == "zh":
            message = "; ".join(exc.lines("zh"))
        detail: object = message
        if isinstance(exc, Invalid) and exc.status == 422:  # a 403 (too late, not open yet) says it plainly
            detail = [{"loc": [exc.location, exc.field or "body"], "msg": message, "type": "value_error"}]
        resp = error_response(request, exc.status, message, detail)
        if exc.status == 429:
            resp.headers["Retry-After"] = "60"
        return resp

    @app.exception_handler(RequestValidationError)
    def _validation(request: Request, exc: RequestValidationError) -> Response:
        zh = asked_lang(request) == "zh"
        errors = [
            {"loc": list(e.get("loc", ())), "msg": _validation_msg(e, zh), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        text = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in errors)
        return error_response(request, 422, text, errors)

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 401 and request.method == "GET" and not wants_json(request):
            # A browser that is not logged in is sent to log in, and brought back afterwards.
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        detail, status = exc.detail, exc.status_code
        if status == 400 and detail == "There was an error parsing the body":
            # FastAPI's words for any body json.loads refused, including one nested past its recursion
            # limit or not UTF-8: an invalid body, which the contract answers with 422.
            message = "the body could not be read: not valid UTF-8 JSON or form data, or nested too deeply"
            # a 422's detail is a list of located errors (the OpenAPI schema every 422 follows)
            resp = error_response(
                request, 422, message, [{"loc": ["body"], "msg": message, "type": "json_invalid"}]
            )
            return resp
        resp = error_response(request, status, str(detail), detail)
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        return resp

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    def _db_down(request: Request, exc: Exception) -> Response:
        log.warning("database unavailable: %s", exc)
        resp = error_response(request, 503, DB_DOWN)
        resp.headers["Retry-After"] = "2"
        return resp

    @app.exception_handler(DataError)
    def _data_refused(request: Request, exc: DataError) -> Response:
        # PostgreSQL refuses text with NUL and text over a column's length where SQLite stores it: that is
        # the client's value, not our bug. The request's session is closed without commit: nothing half-written.
        if exc.connection_invalidated:
            return _db_down(request, exc)
        log.warning("database refused a value: %s", exc.orig)
        return error_response(
            request, 422, DATA_REFUSED, [{"loc": ["body"], "msg": DATA_REFUSED, "type": "value_error"}]
        )

    @app.exception_handler(DBAPIError)
    def _dbapi(request: Request, exc: DBAPIError) -> Response:
        if exc.connection_invalidated:
            return _db_down(request, exc)
        log.exception("database error")
        return error_response(request, 500, "internal error")

    @app.exception_handler(Exception)
    def _bug(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(request, 500, "internal error")
