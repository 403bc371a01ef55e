"""Bodies of the question-bank, script-template and Excel endpoints. Requests forbid unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from dualrec.api.schemas.common import Code, StrictModel

__all__ = [
    "AnswerIn",
    "AnswerOut",
    "Approval",
    "BankCreate",
    "BankDetailOut",
    "BankOut",
    "BankPatch",
    "DrawRuleIn",
    "ImportResultOut",
    "QuestionCreate",
    "QuestionOut",
    "QuestionPatch",
    "QuestionSavedOut",
    "ReviewHitOut",
    "ShortfallOut",
    "TemplateCreate",
    "TemplateOut",
    "TemplatePatch",
    "TemplateSavedOut",
]

RiskLevel = Literal["R1", "R2", "R3", "R4", "R5"]
Difficulty = Annotated[int, Field(ge=1, le=5)]
AnswerText = Annotated[str, StringConstraints(min_length=1, max_length=100)]
BankName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
QuestionText = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Reason = Annotated[str, StringConstraints(max_length=1000)]
NodeType = Literal["identity", "risk_disclosure", "qa", "willingness", "document_display", "signing", "end"]


class DrawRuleIn(StrictModel):
    risk_level: RiskLevel
    count: Annotated[int, Field(ge=0, le=20)]
    min_difficulty: Difficulty = 1
    max_difficulty: Difficulty = 5


class ShortfallOut(BaseModel):
    risk_level: str
    needed: int
    eligible: int


class BankCreate(StrictModel):
    code: Code = Field(description="题库编号 = 业务类型 / bank code = business type")
    name: BankName
    rules: list[DrawRuleIn] = Field(default_factory=list, max_length=5)


class BankPatch(StrictModel):
    name: BankName | None = None
    rules: list[DrawRuleIn] | None = Field(default=None, max_length=5)


class BankOut(BaseModel):
    code: str
    name: str
    rules: list[DrawRuleIn]
    question_count: int
    enabled_count: int
    updated_at: datetime | None
    updated_by: str
    shortfalls: list[ShortfallOut] = Field(
        description="抽题规则中题目不足的风险等级 / rules the enabled questions cannot satisfy"
    )


class AnswerIn(StrictModel):
    text: AnswerText
    synonyms: list[AnswerText] = Field(default_factory=list, max_length=20)


class AnswerOut(BaseModel):
    text: str
    synonyms: list[str]


class QuestionOut(BaseModel):
    bank: str
    code: str
    text: str
    answers: list[AnswerOut]
    difficulty: int
    enabled: bool


class BankDetailOut(BankOut):
    questions: list[QuestionOut]


class _Override(StrictModel):
    override: bool = Field(
        default=False,
        description="含敏感词仍启用（需 flows:override_review 权限并填写理由）/ "
        "keep it enabled despite sensitive words (needs flows:override_review and a reason)",
    )
    override_reason: Reason | None = None


class QuestionCreate(_Override):
    code: Code
    text: QuestionText
    answers: list[AnswerIn] = Field(min_length=1, max_length=10)
    difficulty: Difficulty = 1
    enabled: bool = True


class QuestionPatch(_Override):
    text: QuestionText | None = None
    answers: list[AnswerIn] | None = Field(default=None, min_length=1, max_length=10)
    difficulty: Difficulty | None = None
    enabled: bool | None = None


class ReviewHitOut(BaseModel):
    field: str
    word: str
    index: int = Field(description="在该字段中的字符位置 / character offset in the field")


class QuestionSavedOut(QuestionOut):
    hits: list[ReviewHitOut]
    held_for_review: bool = Field(
        description="因含敏感词而停用，待审核 / disabled because of sensitive words until approved"
    )


class Approval(StrictModel):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class TemplateCreate(StrictModel):
    business_type: Code
    node_type: NodeType
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    text: Annotated[str, StringConstraints(min_length=1, max_length=10000)]


class TemplatePatch(StrictModel):
    business_type: Code | None = None
    node_type: NodeType | None = None
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    text: Annotated[str, StringConstraints(min_length=1, max_length=10000)] | None = None


class TemplateOut(BaseModel):
    id: int
    business_type: str
    node_type: str
    title: str
    text: str
    updated_at: datetime | None


class TemplateSavedOut(TemplateOut):
    hits: list[ReviewHitOut]


class ImportResultOut(BaseModel):
    dry_run: bool
    sha256: str
    rows: int
    banks_created: int
    banks_updated: int
    questions_created: int
    questions_updated: int
    questions_unchanged: int
    templates_created: int
    templates_updated: int
    templates_unchanged: int
    held_for_review: int
    review: list[dict[str, Any]] = Field(
        description="含敏感词的行（工作表、行号、命中词及位置）/ rows with sensitive words: sheet, row, hits"
    )
