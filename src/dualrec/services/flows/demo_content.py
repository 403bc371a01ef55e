"""Demo flows, question banks and routing rules that ``make run`` seeds (idempotent).

Two realistic sales processes: a bank wealth-management product (理财) and an insurance policy
(保险, with 犹豫期 and 退保损失), each with the mandatory opening prompt, the risk disclosure and
three anti-fraud questions drawn from a bank by the customer's risk level.
"""

from __future__ import annotations

from typing import Any

from dualrec.core.audit import AuditAction
from dualrec.core.flow import flow_to_dict, parse_flow
from dualrec.core.questions import DrawRule, Question
from dualrec.core.routing import RoutingRule
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.services.common import audit
from dualrec.services.common.context import SYSTEM
from dualrec.services.flows.service import definition_sha256

__all__ = ["DEMO_FLOWS", "seed_demo_content"]

OPENING = "您好，为保障您的合法权益，本次业务办理将进行全程录音录像，请您确认是否同意？"

YES_NO = [
    {"text": "是", "synonyms": ["同意", "确认", "好的", "可以", "没问题"]},
    {"text": "否", "synonyms": ["不同意", "不确认", "拒绝"]},
]

# every demo flow opens with the mandatory recording consent and closes the same way
CONSENT_NODE: dict[str, Any] = {
    "id": "consent",
    "type": "qa",
    "title": "录音录像告知",
    "script": OPENING,
    "required_statements": ["本次业务办理将进行全程录音录像"],
    "expected_answers": YES_NO,
    "branches": {"是": "identity", "否": "@fail"},
    "retries": 2,
}
END_NODE: dict[str, Any] = {
    "id": "end",
    "type": "end",
    "title": "结束录制",
    "script": "本次录音录像已完成，感谢您的配合。",
}

WEALTH_FLOW: dict[str, Any] = {
    "mode": "self_service",
    "description": "银行理财产品销售双录（演示）",
    "nodes": [
        CONSENT_NODE,
        {
            "id": "identity",
            "type": "identity",
            "title": "身份核实",
            "script": "请您正对摄像头，按提示完成眨眼、点头或摇头动作，并出示本人身份证正反面。",
            "retries": 2,
            "on_fail": "handover",
            "params": {"liveness_actions": 3, "face_threshold": 0.6},
        },
        {
            "id": "risk",
            "type": "risk_disclosure",
            "title": "产品介绍及风险告知",
            "script": (
                "您本次购买的是非保本浮动收益型理财产品，风险等级为中等。理财非存款，产品有风险，"
                "投资须谨慎。本产品不保证本金和收益，您可能损失部分或全部本金。过往业绩不代表未来表现。"
                "请问您是否已充分了解上述风险？"
            ),
            "required_statements": ["理财非存款，产品有风险，投资须谨慎", "过往业绩不代表未来表现"],
            "expected_answers": [{"text": "了解", "synonyms": ["是", "清楚", "明白", "知道"]}],
        },
        {
            "id": "fraud",
            "type": "qa",
            "title": "反欺诈提问",
            "draw_bank": "wealth",
            "retries": 1,
            "on_fail": "handover",
        },
        {
            "id": "willing",
            "type": "willingness",
            "title": "意愿确认（跟读）",
            "script": "请跟读：本人已充分了解产品风险，自愿购买本产品，并自行承担投资风险。",
            "expected_answers": [
                {"text": "本人已充分了解产品风险，自愿购买本产品", "synonyms": ["自愿购买"]}
            ],
            "params": {"mode": "read_along", "accuracy": 0.8},
            "retries": 2,
            "on_fail": "handover",
        },
        {
            "id": "docs",
            "type": "document_display",
            "title": "产品说明书展示",
            "script": "请逐页阅读产品说明书和风险揭示书，阅读完毕后点击“已阅读”。",
            "optional": True,
        },
        {
            "id": "sign",
            "type": "signing",
            "title": "电子签名",
            "script": "请在屏幕上签署您的姓名。",
            "optional": True,
        },
        END_NODE,
    ],
}

INSURANCE_FLOW: dict[str, Any] = {
    "mode": "self_service",
    "description": "保险产品销售双录（演示）",
    "nodes": [
        CONSENT_NODE,
        {
            "id": "identity",
            "type": "identity",
            "title": "身份核实",
            "script": "请您正对摄像头完成活体检测，并出示投保人身份证正反面。",
            "retries": 2,
            "on_fail": "handover",
            "params": {"liveness_actions": 2, "face_threshold": 0.6},
        },
        {
            "id": "disclosure",
            "type": "risk_disclosure",
            "title": "条款说明及风险告知",
            "script": (
                "本产品为保险产品，不是存款，也不是银行理财产品。本合同的犹豫期为十五日，自您签收保险合同"
                "之日起计算，犹豫期内解除合同，保险公司将无息退还您所交的保险费。犹豫期后解除合同会产生"
                "退保损失，您可能只能领回保单的现金价值，低于已交保费。请问您是否已了解上述内容？"
            ),
            "required_statements": ["犹豫期为十五日", "犹豫期后解除合同会产生退保损失"],
            "expected_answers": [{"text": "了解", "synonyms": ["是", "清楚", "明白", "知道"]}],
        },
        {
            "id": "fraud",
            "type": "qa",
            "title": "反欺诈提问",
            "draw_bank": "insurance",
            "retries": 1,
            "on_fail": "handover",
        },
        {
            "id": "willing",
            "type": "willingness",
            "title": "投保意愿确认（抄录）",
            "script": (
                "请抄录：本人已阅读保险条款、产品说明书和投保提示书，了解本产品的特点和保单利益的不确定性。"
            ),
            "params": {"mode": "copy", "accuracy": 0.8},
            "retries": 1,
            "on_fail": "handover",
            "expected_answers": [{"text": "本人已阅读保险条款", "synonyms": ["已阅读"]}],
        },
        {
            "id": "sign",
            "type": "signing",
            "title": "投保单签名",
            "script": "请在投保单指定位置签署投保人姓名。",
            "optional": True,
        },
        END_NODE,
    ],
}

DEMO_FLOWS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "wm-sale": ("理财产品销售", "wealth", WEALTH_FLOW),
    "ins-sale": ("保险产品销售", "insurance", INSURANCE_FLOW),
}


def _q(bank: str, code: str, text: str, answer: str, synonyms: tuple[str, ...], difficulty: int) -> Question:
    from dualrec.core.flow import AnswerOption

    return Question(code, bank, text, (AnswerOption(answer, synonyms),), difficulty)


DEMO_QUESTIONS: dict[str, tuple[str, list[Question]]] = {
    "wealth": (
        "理财反欺诈题库",
        [
            _q("wealth", "WM-001", "请问本次购买是否为您本人的真实意愿？", "是", ("本人意愿", "自愿"), 1),
            _q("wealth", "WM-002", "请问是否有人向您承诺过本产品不会亏损？", "没有", ("否", "无"), 1),
            _q(
                "wealth",
                "WM-003",
                "请问您购买本产品的资金是否为您本人的合法自有资金？",
                "是",
                ("自有资金",),
                1,
            ),
            _q("wealth", "WM-004", "请问是否有他人代您操作或代您签字？", "没有", ("否", "无"), 2),
            _q(
                "wealth",
                "WM-005",
                "请问您是否了解本产品可能损失部分或全部本金？",
                "了解",
                ("是", "知道", "清楚"),
                2,
            ),
            _q(
                "wealth",
                "WM-006",
                "请问您是否接到过自称银行人员的电话、要求您转账或购买本产品？",
                "没有",
                ("否", "无"),
                3,
            ),
            _q(
                "wealth",
                "WM-007",
                "请问您是否理解本产品在存续期内可能无法提前赎回？",
                "理解",
                ("是", "了解", "明白"),
                3,
            ),
        ],
    ),
    "insurance": (
        "保险反欺诈题库",
        [
            _q("insurance", "INS-001", "请问投保是否为您本人的真实意愿？", "是", ("自愿", "本人意愿"), 1),
            _q(
                "insurance",
                "INS-002",
                "请问您是否了解本产品是保险产品，不是存款？",
                "了解",
                ("是", "知道", "清楚"),
                1,
            ),
            _q("insurance", "INS-003", "请问销售人员是否向您承诺过固定回报？", "没有", ("否", "无"), 2),
            _q(
                "insurance",
                "INS-004",
                "请问您是否了解犹豫期后退保可能产生损失？",
                "了解",
                ("是", "知道", "清楚"),
                2,
            ),
            _q(
                "insurance",
                "INS-005",
                "请问投保单上的签名是否由您本人亲笔签署？",
                "是",
                ("本人签署", "亲笔"),
                3,
            ),
        ],
    ),
}

# R4/R5 customers answer three questions of the harder kinds; R1–R3 answer fewer (SPEC §2.2)
DEMO_RULES: dict[str, list[DrawRule]] = {
    "wealth": [
        DrawRule("R1", 1, 1, 2),
        DrawRule("R2", 1, 1, 2),
        DrawRule("R3", 2, 1, 3),
        DrawRule("R4", 3, 1, 3),
        DrawRule("R5", 3, 2, 3),
    ],
    "insurance": [
        DrawRule("R1", 1),
        DrawRule("R2", 1),
        DrawRule("R3", 2),
        DrawRule("R4", 3),
        DrawRule("R5", 3),
    ],
}

DEMO_ROUTING = [
    RoutingRule(
        0, 10, "wm-sale", "human", customer_types=frozenset({"elderly"}), name="65 岁以上客户转人工面签"
    ),
    RoutingRule(
        0,
        20,
        "wm-sale",
        "human",
        business_types=frozenset({"wealth"}),
        risk_levels=frozenset({"R5"}),
        name="R5 客户理财转人工",
    ),
    RoutingRule(
        0, 100, "wm-sale", "self_service", business_types=frozenset({"wealth"}), name="理财默认 AI 双录"
    ),
    RoutingRule(
        0, 100, "ins-sale", "self_service", business_types=frozenset({"insurance"}), name="保险默认 AI 双录"
    ),
]


def _seed_banks(uow: UnitOfWork) -> int:
    made = 0
    for code, (name, questions) in DEMO_QUESTIONS.items():
        if uow.questions.bank(code) is not None:
            continue
        uow.questions.add_bank(code=code, name=name, rules=DEMO_RULES[code], by=SYSTEM.name)
        uow.questions.save_questions(questions)
        made += 1
    return made


def _seed_flows(uow: UnitOfWork) -> int:
    made = 0
    for code, (name, business_type, definition) in DEMO_FLOWS.items():
        if uow.flows.get(code) is not None:
            continue
        flow = parse_flow({**definition, "id": code, "name": name, "business_type": business_type})
        draft = flow_to_dict(flow)
        stored = uow.flows.add(code=code, name=name, business_type=business_type, draft=draft, by=SYSTEM.name)
        uow.flows.add_version(
            stored.id,
            version=1,
            definition=draft,
            sha256=definition_sha256(draft),
            by=SYSTEM.name,
            changes=[{"kind": "added", "node_id": n.id, "field": ""} for n in flow.nodes],
            review_hits=[],
            override_reason="",
        )
        made += 1
    return made


def seed_demo_content(uows: UnitOfWorkFactory) -> int:
    """Creates the demo banks, flows (published as version 1) and routing rules that are missing.
    Returns how many things were created (0 on a second run)."""
    with uows() as uow:
        made = _seed_banks(uow) + _seed_flows(uow)
        if not uow.flows.rules():
            uow.flows.replace_rules(DEMO_ROUTING)
            made += 1
        if made:
            audit.record(
                uow,
                actor=SYSTEM,
                action=AuditAction.FLOW_PUBLISHED,
                target_type="demo_content",
                details={"flows": sorted(DEMO_FLOWS), "banks": sorted(DEMO_QUESTIONS)},
            )
        uow.commit()
        return made
