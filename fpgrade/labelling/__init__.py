"""Triple-check labelling (paper 001, section 2.3.3; issue 11): the core the pages, the CLI and
the Label Studio sync all call. Nothing here imports gradio.

- :mod:`.model`: roles, pass kinds, states, outcomes and the typed errors;
- :mod:`.users`: accounts (argon2 password hashes) and the one role check, :func:`.users.require`;
- :mod:`.campaigns`: creating a campaign (its assignments) and its progress;
- :mod:`.workflow`: the state machine (claim, skip, submit, first check, adjudication);
- :mod:`.checks`: the second check (asymmetry indices against per-class ranges, or a model);
- :mod:`.final`: :func:`.final.final_labels`, the one source of final labels;
- :mod:`.agreement`: percent agreement, Cohen's and Fleiss' kappa, confusion matrices;
- :mod:`.export`: final labels with their provenance as CSV;
- :mod:`.audit`: who did what, when.

Every write runs in :func:`fpgrade.storage.retry.in_transaction`; races (two raters, a double
submit, two adjudicators) are decided by the database: unique constraints and conditional
``UPDATE ... WHERE state = ...``, with the rows of one medium locked (``FOR UPDATE`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises writers anyway).
"""
