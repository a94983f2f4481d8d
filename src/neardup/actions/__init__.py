"""Acting on duplicates, safely: which files to act on (`plan`), the journal written before
each file is touched (`journal`), doing it (`apply`), restoring it (`undo`).

Docs: docs/act.md (the decisions and journal schemas, what each action does, what is refused).
"""

from neardup.actions.apply import ACTIONS, Outcome, apply_plan
from neardup.actions.plan import Item, Plan, load_plan
from neardup.actions.undo import PurgeOutcome, purge, undo

__all__ = [
    "ACTIONS",
    "Item",
    "Outcome",
    "Plan",
    "PurgeOutcome",
    "apply_plan",
    "load_plan",
    "purge",
    "undo",
]
