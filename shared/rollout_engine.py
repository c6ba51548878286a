"""The contract between the rollout state machine (dns-primary) and the ops tooling that starts and follows it.

The state machine shifts traffic server-side; `make rollout ENGINE=stepfunctions` starts an execution with the
input below and follows it. Both sides take these names from here.
"""

from __future__ import annotations

from typing import Final, Literal

from config.settings import Role, Settings
from shared.naming import Naming

Engine = Literal["local", "stepfunctions"]
ENGINES: Final[tuple[Engine, ...]] = ("local", "stepfunctions")

STATE_MACHINE_COMPONENT: Final = "rollout"
POLL_SECONDS: Final = 5  # how often a bake reads the alarms
SPLIT_KEY_SUFFIX: Final = "traffic/split.json"

# The execution input: {"to": "secondary", "steps": [50, 100], "bake_seconds": 5, "reason": "rollout"}
INPUT_KEYS: Final = ("to", "steps", "bake_seconds", "reason")

# Errors a failed execution ends with (its `error`); the cause says what happened in one line.
BAD_INPUT: Final = "BadInput"
TRAFFIC_LOCKED: Final = "TrafficLocked"
PRECHECK_FAILED: Final = "PrecheckFailed"
ALARM_FIRED: Final = "AlarmFired"
STEP_FAILED: Final = "StepFailed"
REVERT_FAILED: Final = "RevertFailed"


def default_engine(settings: Settings) -> Engine:
    """`local` on the emulator (its Step Functions is an opt-in mode with gaps, and forgets executions when it
    restarts); `stepfunctions` on AWS, where a rollout must survive the machine that started it."""
    return "local" if settings.is_local else "stepfunctions"


def state_machine_name(settings: Settings) -> str:
    return Naming.for_role(settings, "primary").name(STATE_MACHINE_COMPONENT)


def split_key(settings: Settings) -> str:
    """`<env>/traffic/split.json`: the persisted split, in the state bucket (home in the primary region)."""
    return f"{settings.environment}/{SPLIT_KEY_SUFFIX}"


def traffic_lock_id(settings: Settings) -> str:
    # The home bucket's name on purpose, not the copy in use: the lock table is one global table, so a change
    # holding the lock through one home must be seen as the same item by a command that chose the other.
    return f"{settings.state.bucket}/{settings.environment}/traffic/lock"


def execution_name(to: Role, stamp: str) -> str:
    """`rollout-to-secondary-20261202T190501`: unique per start, valid as a snapshot id suffix."""
    return f"rollout-to-{to}-{stamp}"
