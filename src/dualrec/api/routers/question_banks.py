"""Question banks (题库) with their draw rules, and their questions (with the sensitive-word review)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Path

from dualrec.api.deps import ContainerDep, perm
from dualrec.api.schemas.question_banks import (
    AnswerIn,
    AnswerOut,
    Approval,
    BankCreate,
    BankDetailOut,
    BankOut,
    BankPatch,
    DrawRuleIn,
    QuestionCreate,
    QuestionOut,
    QuestionPatch,
    QuestionSavedOut,
    ReviewHitOut,
    ShortfallOut,
)
from dualrec.core.flow import AnswerOption
from dualrec.core.questions import DrawRule, Question
from dualrec.core.rbac import Permission as P
from dualrec.services.common.context import Actor
from dualrec.services.question_banks import service as svc

router = APIRouter(tags=["questions"])
BankCode = Annotated[str, Path(min_length=1, max_length=64)]
QuestionCode = Annotated[str, Path(min_length=1, max_length=64)]
Reader = Annotated[Actor, perm(P.FLOWS_READ)]
Writer = Annotated[Actor, perm(P.FLOWS_WRITE)]


def _bank_out(d: svc.BankDetail) -> dict[str, Any]:
    b = d.bank
    return {
        "code": b.code,
        "name": b.name,
        "rules": [DrawRuleIn(**dataclasses.asdict(r)) for r in b.rules],
        "question_count": b.question_count,
        "enabled_count": b.enabled_count,
        "updated_at": b.updated_at,
        "updated_by": b.updated_by,
        "shortfalls": [ShortfallOut(**dataclasses.asdict(s)) for s in d.shortfalls],
    }


def _question_out(q: Question) -> QuestionOut:
    return QuestionOut(
        bank=q.bank,
        code=q.code,
        text=q.text,
        answers=[AnswerOut(text=a.text, synonyms=list(a.synonyms)) for a in q.answers],
        difficulty=q.difficulty,
        enabled=q.enabled,
    )


def _saved_out(s: svc.SavedQuestion) -> QuestionSavedOut:
    return QuestionSavedOut(
        **_question_out(s.question).model_dump(),
        hits=[ReviewHitOut(**dataclasses.asdict(h)) for h in s.hits],
        held_for_review=s.held_for_review,
    )


def _rules(rules: list[DrawRuleIn]) -> list[DrawRule]:
    return [DrawRule(**r.model_dump()) for r in rules]


def _answers(answers: list[AnswerIn]) -> tuple[AnswerOption, ...]:
    return tuple(AnswerOption(a.text, tuple(a.synonyms)) for a in answers)


# ----------------------------------------------------------------------------------------- banks


@router.get("/question-banks", response_model=list[BankOut], summary="题库列表 / list question banks")
def list_banks(actor: Reader, container: ContainerDep) -> list[BankOut]:
    return [BankOut(**_bank_out(d)) for d in svc.list_banks(container.uows)]


@router.post("/question-banks", response_model=BankOut, status_code=201, summary="新建题库 / create a bank")
def create_bank(body: BankCreate, actor: Writer, container: ContainerDep) -> BankOut:
    d = svc.create_bank(container.uows, actor=actor, code=body.code, name=body.name, rules=_rules(body.rules))
    return BankOut(**_bank_out(d))


@router.get(
    "/question-banks/{code}", response_model=BankDetailOut, summary="题库及题目 / a bank and its questions"
)
def get_bank(code: BankCode, actor: Reader, container: ContainerDep) -> BankDetailOut:
    d = svc.get_bank(container.uows, code)
    return BankDetailOut(**_bank_out(d), questions=[_question_out(q) for q in d.questions])


@router.patch("/question-banks/{code}", response_model=BankOut, summary="修改题库或抽题规则 / edit a bank")
def update_bank(code: BankCode, body: BankPatch, actor: Writer, container: ContainerDep) -> BankOut:
    rules = None if body.rules is None else _rules(body.rules)
    d = svc.update_bank(container.uows, actor=actor, code=code, name=body.name, rules=rules)
    return BankOut(**_bank_out(d))


@router.delete("/question-banks/{code}", status_code=204, summary="删除题库及其题目 / delete a bank")
def delete_bank(code: BankCode, actor: Writer, container: ContainerDep) -> None:
    svc.delete_bank(container.uows, actor=actor, code=code)


# ------------------------------------------------------------------------------------- questions


@router.get(
    "/question-banks/{code}/questions", response_model=list[QuestionOut], summary="题目列表 / list questions"
)
def list_questions(code: BankCode, actor: Reader, container: ContainerDep) -> list[QuestionOut]:
    return [_question_out(q) for q in svc.list_questions(container.uows, code)]


@router.post(
    "/question-banks/{code}/questions",
    response_model=QuestionSavedOut,
    status_code=201,
    summary="新增题目（敏感词审核）/ add a question (with the sensitive-word review)",
)
def create_question(
    code: BankCode, body: QuestionCreate, actor: Writer, container: ContainerDep
) -> QuestionSavedOut:
    q = Question(body.code, code, body.text, _answers(body.answers), body.difficulty, body.enabled)
    saved = svc.save_question(
        container.uows,
        actor=actor,
        question=q,
        create=True,
        override=body.override,
        override_reason=body.override_reason,
    )
    return _saved_out(saved)


@router.get(
    "/question-banks/{code}/questions/{question_code}",
    response_model=QuestionOut,
    summary="题目 / a question",
)
def get_question(
    code: BankCode, question_code: QuestionCode, actor: Reader, container: ContainerDep
) -> QuestionOut:
    return _question_out(svc.get_question(container.uows, code, question_code))


@router.patch(
    "/question-banks/{code}/questions/{question_code}",
    response_model=QuestionSavedOut,
    summary="修改题目（敏感词审核）/ edit a question (with the sensitive-word review)",
)
def update_question(
    code: BankCode, question_code: QuestionCode, body: QuestionPatch, actor: Writer, container: ContainerDep
) -> QuestionSavedOut:
    current = svc.get_question(container.uows, code, question_code)
    q = dataclasses.replace(
        current,
        text=current.text if body.text is None else body.text,
        answers=current.answers if body.answers is None else _answers(body.answers),
        difficulty=current.difficulty if body.difficulty is None else body.difficulty,
        enabled=current.enabled if body.enabled is None else body.enabled,
    )
    saved = svc.save_question(
        container.uows,
        actor=actor,
        question=q,
        create=False,
        override=body.override,
        override_reason=body.override_reason,
    )
    return _saved_out(saved)


@router.post(
    "/question-banks/{code}/questions/{question_code}/approve",
    response_model=QuestionSavedOut,
    summary="审核通过含敏感词的题目 / approve a question held for sensitive words",
)
def approve_question(
    code: BankCode,
    question_code: QuestionCode,
    body: Approval,
    actor: Annotated[Actor, perm(P.FLOWS_OVERRIDE_REVIEW)],
    container: ContainerDep,
) -> QuestionSavedOut:
    saved = svc.approve_question(
        container.uows, actor=actor, bank=code, code=question_code, reason=body.reason
    )
    return _saved_out(saved)


@router.delete(
    "/question-banks/{code}/questions/{question_code}",
    status_code=204,
    summary="删除题目 / delete a question",
)
def delete_question(
    code: BankCode, question_code: QuestionCode, actor: Writer, container: ContainerDep
) -> None:
    svc.delete_question(container.uows, actor=actor, bank=code, code=question_code)
