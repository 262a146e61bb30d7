"""Interface strings in zh and en, and how a page picks its language."""

from __future__ import annotations

from fastapi import Request

from app.models import User

UI: dict[str, dict[str, str]] = {
    "app_name": {"zh": "深度学习练习与评测", "en": "DL Grader"},
    "tagline": {
        "zh": "卷积尺寸、交叉熵、反向传播、优化器、注意力、强化学习……每次都是新的数字。",
        "en": "Conv sizes, cross-entropy, backprop, optimisers, attention, RL: new numbers every time.",
    },
    "home": {"zh": "首页", "en": "Home"},
    "login": {"zh": "登录", "en": "Log in"},
    "logout": {"zh": "退出", "en": "Log out"},
    "register": {"zh": "注册", "en": "Register"},
    "progress": {"zh": "我的进度", "en": "My progress"},
    "exams": {"zh": "模拟考试", "en": "Mock exams"},
    "difficulty": {"zh": "难度", "en": "Difficulty"},
    "accuracy": {"zh": "最近正确率", "en": "Recent accuracy"},
    "not_tried": {"zh": "未练习", "en": "not tried"},
    "practise": {"zh": "练习", "en": "Practise"},
    "submit": {"zh": "提交", "en": "Submit"},
    "another": {"zh": "换一题", "en": "Another variant"},
    "show_solution": {"zh": "查看解答", "en": "Show solution"},
    "solution": {"zh": "解答", "en": "Worked solution"},
    "solution_after_attempt": {
        "zh": "提交一次后可查看解答。",
        "en": "The solution is shown after your first attempt.",
    },
    "correct": {"zh": "正确", "en": "Correct"},
    "wrong": {"zh": "不正确", "en": "Not correct"},
    "form_expired": {
        "zh": "此表单已过期（也许你在别处登出了）。你的答案还在下面，请再提交一次。",
        "en": "This form expired (perhaps you logged out elsewhere). Your answers are still below: submit again.",
    },
    "form_expired_copy": {
        "zh": "此表单已过期（也许你在别处登出了），答案未保存。请复制下面的答案，回到作业页面重新填写并提交。",
        "en": "This form expired (perhaps you logged out elsewhere): nothing was stored. Copy your answers below, go back to the homework and submit them there.",
    },
    "my_exams": {"zh": "我的作业与考试", "en": "My homework and exams"},
    "kind_homework": {"zh": "作业", "en": "Homework"},
    "kind_exam": {"zh": "考试", "en": "Exam"},
    "deadline": {"zh": "截止时间", "en": "Due"},
    "no_deadline": {"zh": "无截止时间", "en": "No deadline"},
    "closed": {"zh": "已截止", "en": "Closed"},
    "unanswered": {"zh": "未作答（0 分）", "en": "Not answered (0 points)"},
    "submitted": {"zh": "已提交", "en": "Submitted"},
    "points": {"zh": "分", "en": "points"},
    "point": {"zh": "分", "en": "point"},
    "submit_question": {"zh": "提交第 {n} 题", "en": "Submit question {n}"},
    "variant": {"zh": "卷号", "en": "Variant"},
    "exam_rules": {
        "zh": "考试进行中：每个小题只能提交一次，成绩与解答在考试结束后公布。",
        "en": "Exam in progress: each part can be submitted once; scores and solutions are shown when it closes.",
    },
    "results_later": {
        "zh": "你的作答时间已结束，答案已保存。成绩与解答在所有人截止（{when}）后公布。",
        "en": "Your time is over and your answers are stored. Scores and solutions are shown once the exam closes for everyone ({when}).",
    },
    "homework_rules": {
        "zh": "作业：提交后立即看到对错，可以改正后再提交，以最后一次为准。",
        "en": "Homework: each submit shows the verdicts at once; you may correct and resubmit, the last answer counts.",
    },
    "logged_out": {
        "zh": "你已登出（会话已过期，或在别处登出了），答案未保存。请复制下面的答案，登录后再提交。",
        "en": "You are logged out (the session ended, or you logged out elsewhere): nothing was stored. Copy your answers below, log in and submit them again.",
    },
    "answer_too_long": {
        "zh": "答案超过 {n} 个字符，未保存；请删减后再提交。",
        "en": "An answer is over {n} characters: nothing was stored; shorten it and submit again.",
    },
    "too_late": {
        "zh": "已过截止时间（{deadline}）：你的答案已保存，标记为迟交。",
        "en": "Past the deadline ({deadline}): your answer was kept, marked late.",
    },
    "draft_note": {"zh": "（草稿，尚未提交）", "en": "(draft, not sent yet)"},
    # a visitor's practice: nothing is stored, a draft may have been checked already
    "draft_note_anonymous": {"zh": "（草稿，未保存）", "en": "(draft, not saved)"},
    "drafts_elsewhere": {
        "zh": "你在这道题的另一组数字上有未提交的草稿：",
        "en": "You have an unsent draft on other numbers of this question: ",
    },
    "open_draft": {"zh": "打开草稿", "en": "open it"},
    "last_answers": {"zh": "框中是你上次提交的答案。", "en": "The boxes hold your last submitted answers."},
    "late_answer": {
        "zh": "截止后提交的答案（已保存，不计分）",
        "en": "Sent after the deadline (kept, not counted)",
    },
    "opens_at": {"zh": "尚未开放：{when} 开放。", "en": "Not open yet: it opens at {when}."},
    "timed_rules": {
        "zh": "这场考试限时 {n} 分钟，从你点击“开始”时计时（截止时间早于此时以截止时间为准）。",
        "en": "This exam lasts {n} minutes from when you press Start (or until its due time, if that comes first).",
    },
    "start_exam": {"zh": "开始考试", "en": "Start the exam"},
    "time_left": {"zh": "剩余时间", "en": "Time left"},
    "time_over": {"zh": "时间到", "en": "Time is up"},
    "time_left_until": {"zh": "限时 {n} 分钟，请在 {when} 前提交", "en": "{n} minutes: submit before {when}"},
    "unreadable": {
        "zh": "有答案无法识别，未保存：请按框下的提示改正后再提交（这不会用掉提交机会）。",
        "en": "An answer could not be read, so nothing was stored: correct it as shown under its box and submit again (this does not use up the part).",
    },
    "see_question": {"zh": "见第 {n} 题", "en": "see question {n}"},
    "your_answers": {"zh": "你的答案", "en": "Your answers"},
    "back_to_it": {"zh": "回到作业", "en": "Back to it"},
    "nothing_typed": {"zh": "请先填写答案再提交。", "en": "Type an answer before submitting."},
    "not_stored": {"zh": "未保存", "en": "Not stored"},
    "taken_elsewhere": {
        "zh": "第 {n} 题的{parts}已经提交过（也许是在另一个标签页），保留先前提交的答案，此处填写的（括号内）未保存。",
        "en": "Question {n}: {parts} was already submitted (perhaps in another tab); the answer submitted first stays, and what you typed here for it (in brackets) was not stored.",
    },
    "rest_stored": {"zh": "本题其余小题已保存。", "en": " The other parts of this question were stored."},
    "awaiting_ta": {"zh": "等待助教批改", "en": "Waiting for a TA"},
    "ta_graded": {"zh": "助教评分", "en": "Graded by a TA"},
    "score_without_ta": {"zh": "（不含助教批改的部分）", "en": "(before the parts a TA grades)"},
    # a practice question with nothing graded automatically: no score, which read as a fail
    "recorded_for_ta": {
        "zh": "答案已保存，等待助教批改（本题没有自动评分的部分，暂无得分）。",
        "en": "Your answer is saved and waits for a TA (nothing in this question is graded automatically, so there is no score yet).",
    },
    "ta_only_not_saved": {
        "zh": "本题由助教批改，没有自动评分的部分；你未登录，答案没有保存。",
        "en": "A TA grades this question; nothing in it is graded automatically. You are not logged in, so your answer was not saved.",
    },
    "score": {"zh": "得分", "en": "Score"},
    "interpreted": {"zh": "识别为", "en": "Read as"},
    "anonymous_note": {
        "zh": "你未登录：可以练习，但不会保存任何记录。",
        "en": "You are not logged in: you can practise, but nothing is saved.",
    },
    "name": {"zh": "用户名", "en": "User name"},
    "password": {"zh": "密码", "en": "Password"},
    "bad_login": {"zh": "用户名或密码错误。", "en": "Wrong user name or password."},
    "question": {"zh": "题目", "en": "Question"},
    "your_answer": {"zh": "你的答案", "en": "Your answer"},
    "weak_spots": {"zh": "练习我的薄弱环节", "en": "Practise my weak spots"},
    "history": {"zh": "作答记录", "en": "Attempt history"},
    "language": {"zh": "English", "en": "中文"},
    "expected": {"zh": "格式", "en": "Form"},
    "preview_hint": {
        "zh": "输入时会显示系统如何识别你的答案。",
        "en": "As you type, you'll see how your answer is read.",
    },
}


def t(key: str, lang: str) -> str:
    return UI[key][lang]


def page_lang(request: Request, user: User | None) -> str:
    """?lang= (remembered in a cookie), else the cookie, else the account, else the browser; default zh."""
    q = request.query_params.get("lang")
    if q in ("zh", "en"):
        return q
    c = request.cookies.get("lang")
    if c in ("zh", "en"):
        return c
    if user is not None and user.lang in ("zh", "en"):
        return user.lang
    accept = request.headers.get("accept-language", "").lower()
    return "en" if accept.startswith("en") else "zh"
