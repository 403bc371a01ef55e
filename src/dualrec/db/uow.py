"""Unit of work: the one place that commits."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from dualrec.db.engine import READ_ONLY
from dualrec.db.repositories.agent_uploads import AgentUploadRepository
from dualrec.db.repositories.apikeys import ApiKeyRepository
from dualrec.db.repositories.approvals import DeletionRequestRepository
from dualrec.db.repositories.archive import ArchiveRepository
from dualrec.db.repositories.audit import AuditRepository
from dualrec.db.repositories.branches import BranchRepository
from dualrec.db.repositories.evidence import EvidenceRepository
from dualrec.db.repositories.flows import FlowRepository
from dualrec.db.repositories.high_risk import HighRiskRepository
from dualrec.db.repositories.live_sessions import LiveSessionRepository
from dualrec.db.repositories.questions import QuestionRepository
from dualrec.db.repositories.recordings import RecordingRepository
from dualrec.db.repositories.review import ReviewRepository
from dualrec.db.repositories.roles import RoleRepository
from dualrec.db.repositories.rtc import RtcRepository
from dualrec.db.repositories.sensitive_words import SensitiveWordRepository
from dualrec.db.repositories.sessions import SessionRepository
from dualrec.db.repositories.tasks import TaskRepository
from dualrec.db.repositories.users import UserRepository
from dualrec.db.repositories.webhooks import WebhookRepository
from dualrec.db.sealing import FieldSealer

__all__ = ["UnitOfWork", "UnitOfWorkFactory"]


class UnitOfWork:
    def __init__(
        self, session: Session, sealer: FieldSealer | None = None, *, read_only: bool = False
    ) -> None:
        self.session = session
        self.read_only = read_only
        self.users = UserRepository(session)
        self.branches = BranchRepository(session)
        self.roles = RoleRepository(session)
        self.sessions = SessionRepository(session)
        self.audit = AuditRepository(session)
        self.api_keys = ApiKeyRepository(session)
        self.recordings = RecordingRepository(session, sealer)
        self.evidence = EvidenceRepository(session)
        self.flows = FlowRepository(session)
        self.questions = QuestionRepository(session)
        self.sensitive_words = SensitiveWordRepository(session)
        self.tasks = TaskRepository(session, sealer)
        self.webhooks = WebhookRepository(session)
        self.agent_uploads = AgentUploadRepository(session)
        self.archive = ArchiveRepository(session)
        self.deletion_requests = DeletionRequestRepository(session)
        self.live_sessions = LiveSessionRepository(session)
        self.review = ReviewRepository(session)
        self.rtc = RtcRepository(session)
        self.high_risk = HighRiskRepository(session)

    def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


class UnitOfWorkFactory:
    """``with uow_factory() as uow: ...; uow.commit()`` — rolls back whatever was not committed.

    ``with uow_factory.read() as uow: ...`` is a unit of work that only reads: on SQLite its
    transaction begins DEFERRED (no write lock; WAL readers never wait for a writer) instead of
    IMMEDIATE, and it cannot commit. Keep every unit of work short: never hold one open while
    waiting on the network (a streamed response reads in pages, one short unit of work per page)."""

    def __init__(self, session_factory: sessionmaker[Session], sealer: FieldSealer | None = None) -> None:
        self._factory = session_factory
        self._sealer = sealer  # customers' personal data sealed at rest (db.sealing); None: legacy

    def __call__(self) -> _UowContext:
        return _UowContext(self._factory, self._sealer, read_only=False)

    def read(self) -> _UowContext:
        return _UowContext(self._factory, self._sealer, read_only=True)


class _UowContext:
    def __init__(
        self, factory: sessionmaker[Session], sealer: FieldSealer | None, *, read_only: bool
    ) -> None:
        self._factory = factory
        self._sealer = sealer
        self._read_only = read_only
        self._uow: UnitOfWork | None = None

    def __enter__(self) -> UnitOfWork:
        options = {READ_ONLY: True} if self._read_only else {}
        session = self._factory(execution_options=options)
        self._uow = UnitOfWork(session, self._sealer, read_only=self._read_only)
        return self._uow

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._uow is not None
        try:
            self._uow.rollback()
        finally:
            self._uow.session.close()
