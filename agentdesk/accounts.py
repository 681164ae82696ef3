"""User accounts: argon2 passwords, add/list/disable, sign-in check, demo accounts."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kck.db.models import AuditEntry, Role, User
from kck.errors import UserError

_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the timing of both failures alike.
_DUMMY_HASH = _hasher.hash("not a real password")

MIN_PASSWORD_LENGTH = 8


class AccountError(UserError):
    """An account change the administrator must correct (duplicate name, weak password…)."""


@dataclass(frozen=True)
class Account:
    """A user as the desk sees it (no password hash)."""

    id: int
    username: str
    display_name: str
    role: Role
    extension: str | None
    language: str
    active: bool
    kb_units: tuple[str, ...] | None = None  # an editor limited to these units' cards
    unit_codes: tuple[str, ...] | None = None  # a unit officer's city units


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: Role
    extension: str | None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


async def hash_off_the_loop(hasher: PasswordHasher, password: str) -> str:
    """argon2 takes tens of ms of CPU on purpose: in a worker thread, never on the loop that
    serves calls and sockets."""
    return await asyncio.to_thread(hasher.hash, password)


def _account(user: User) -> Account:
    return Account(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        extension=user.extension,
        language=user.language,
        active=user.active,
        kb_units=tuple(user.kb_units) if user.kb_units is not None else None,
        unit_codes=tuple(user.unit_codes) if user.unit_codes is not None else None,
    )


def _unit_codes(username: str, role: Role, units: Sequence[str] | None) -> list[str] | None:
    """A unit officer works for one or more units; no other role has any."""
    if role is not Role.UNIT:
        if units:
            raise AccountError(f"user {username!r}: only the role 'unit' takes --units")
        return None
    wanted = sorted({u.strip().upper() for u in units or ()})
    if not wanted or not all(u.replace("-", "").isalnum() for u in wanted):
        raise AccountError(
            f"user {username!r}: the role 'unit' needs its units' codes, e.g. --units ZZM"
        )
    return wanted


class Accounts:
    """The users table behind the login page and `kck users`."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], hasher: PasswordHasher = _hasher
    ) -> None:
        self.sessions = sessions
        self.hasher = hasher

    async def add(
        self,
        username: str,
        password: str,
        role: Role,
        *,
        extension: str | None = None,
        display_name: str | None = None,
        language: str = "pl",
        actor: str = "cli",
        units: Sequence[str] | None = None,
    ) -> Account:
        unit_codes = _unit_codes(username, role, units)
        if (
            not username
            or not username.replace(".", "").replace("-", "").replace("_", "").isalnum()
        ):
            raise AccountError(f"user name {username!r}: use letters, digits, '.', '-' or '_' only")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AccountError(
                f"password for {username!r}: at least {MIN_PASSWORD_LENGTH} characters"
            )
        if extension is not None and not extension.isdigit():
            raise AccountError(f"extension {extension!r}: digits only, e.g. 101")
        user = User(
            username=username,
            display_name=display_name or username,
            password_hash=await hash_off_the_loop(self.hasher, password),
            role=role.value,
            extension=extension,
            language=language,
            active=True,
            unit_codes=unit_codes,
        )
        try:
            async with self.sessions.begin() as session:
                session.add(user)
                session.add(
                    AuditEntry(
                        actor=actor,
                        action="user.add",
                        target=username,
                        details={
                            "role": role.value,
                            "extension": extension,
                            "units": unit_codes,
                        },
                    )
                )
        except IntegrityError:
            raise AccountError(f"user {username!r} already exists") from None
        return _account(user)

    async def list(self) -> list[Account]:
        async with self.sessions() as session:
            users = await session.scalars(select(User).order_by(User.username))
            return [_account(u) for u in users]

    async def get(self, username: str) -> Account | None:
        async with self.sessions() as session:
            user = await session.scalar(select(User).where(User.username == username))
            return _account(user) if user else None

    async def _change(
        self,
        username: str,
        change: Callable[[User], None],
        audit: AuditEntry,
    ) -> Account:
        """Apply `change` to the user's row and write `audit`, in one transaction."""
        async with self.sessions.begin() as session:
            user = await session.scalar(select(User).where(User.username == username))
            if user is None:
                raise AccountError(f"no user {username!r}")
            change(user)
            session.add(audit)
            return _account(user)

    async def set_active(self, username: str, active: bool, *, actor: str = "cli") -> Account:
        def change(user: User) -> None:
            user.active = active

        action = "user.enable" if active else "user.disable"
        return await self._change(
            username, change, AuditEntry(actor=actor, action=action, target=username)
        )

    async def kb_units(self, username: str) -> frozenset[str] | None:
        """The units whose service cards this account may edit; None: every unit."""
        async with self.sessions() as session:
            units = await session.scalar(select(User.kb_units).where(User.username == username))
        return frozenset(units) if units is not None else None

    async def set_kb_units(
        self, username: str, units: Sequence[str] | None, *, actor: str = "cli"
    ) -> Account:
        """Limit an editor to the cards of `units` (None: every unit)."""
        wanted = sorted(set(units)) if units is not None else None
        if wanted is not None and not all(u and u.replace("-", "").isalnum() for u in wanted):
            raise AccountError(f"units {wanted!r}: KB unit keys such as 'drogi' or 'usc'")

        def change(user: User) -> None:
            user.kb_units = wanted

        audit = AuditEntry(
            actor=actor, action="user.kb_units", target=username, details={"units": wanted}
        )
        return await self._change(username, change, audit)

    async def unit_codes(self, username: str) -> frozenset[str]:
        """The city units a unit officer works for (none for any other account)."""
        async with self.sessions() as session:
            codes = await session.scalar(
                select(User.unit_codes).where(User.username == username, User.active)
            )
        return frozenset(codes or ())

    async def is_active(self, user_id: int) -> bool:
        async with self.sessions() as session:
            return bool(await session.scalar(select(User.active).where(User.id == user_id)))

    async def authenticate(self, username: str, password: str) -> Account | None:
        """The account if the password is right and the account active; None otherwise."""
        async with self.sessions() as session:
            user = await session.scalar(select(User).where(User.username == username))
        stored = user.password_hash if user is not None else _DUMMY_HASH
        try:
            await asyncio.to_thread(self.hasher.verify, stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None or not user.active:
            return None
        if self.hasher.check_needs_rehash(stored):
            rehashed = await hash_off_the_loop(self.hasher, password)
            async with self.sessions.begin() as session:
                fresh = await session.get(User, user.id)
                if fresh is not None:
                    fresh.password_hash = rehashed
        return _account(user)


DEMO_STAFF = (
    ("supervisor", Role.SUPERVISOR, "Ewa Zielińska"),
    ("editor", Role.EDITOR, "Jan Redaktor"),
    ("admin", Role.ADMIN, "Administrator"),
)


async def create_demo_accounts(
    sessions: async_sessionmaker[AsyncSession],
    agents: Sequence[tuple[str, str, str]],
) -> list[DemoAccount]:
    """Demo mode only: an account for each agent (username, name, extension — agents.yaml) and
    one supervisor, editor and administrator, with fresh random passwords each start.

    Existing demo users get a new password, so the printed list is always the one that works.
    """
    wanted: list[tuple[str, Role, str | None, str]] = [
        (u, Role.AGENT, ext, name) for u, name, ext in agents
    ]
    wanted += [(u, role, None, name) for u, role, name in DEMO_STAFF]
    accounts = Accounts(sessions)
    made = []
    for username, role, extension, name in wanted:
        password = secrets.token_urlsafe(9)
        async with sessions.begin() as session:
            user = await session.scalar(select(User).where(User.username == username))
            if user is not None:
                user.password_hash = await hash_off_the_loop(_hasher, password)
                user.active = True
                user.role = role.value
                user.extension = extension
        if user is None:
            await accounts.add(
                username, password, role, extension=extension, display_name=name, actor="demo"
            )
        made.append(DemoAccount(username, password, role, extension))
    return made
