"""Triple-check labelling (paper 001, section 2.3.3; issue 11): the core the pages, the CLI and
the Label Studio sync all call. Nothing here imports gradio.

- :mod:`.model`: roles, pass kinds, states, outcomes and the typed errors;
- :mod:`.users`: accounts (argon2 password hashes) and the one role check, :func:`.users.require`;
- :mod:`.campaigns`: creating a campaign (its assignments) and its progress;
- :mod:`.workflow`: the state machine (claim, skip, submit, first check); :mod:`.adjudication`:
  the queue and the decisions; :mod:`.passes`: what every write of a blind pass shares (the
  opening checks, the first check run again after a change);
- :mod:`.checks`: the second check (asymmetry indices against per-class ranges, or a model);
- :mod:`.final`: :func:`.final.final_labels`, the one source of final labels;
- :mod:`.withdraw`: withdrawing or relabelling a pass (a Label Studio annotation deleted or
  edited), reopening the decisions that rested on it;
- :mod:`.playback`: a video counts as seen only once the page reported it played to its end;
- :mod:`.guideline`: a campaign's guideline for raters (Markdown rendered safely) with example
  photos per grade from its final labels;
- :mod:`.raters`, :mod:`.raters_time`: per-labeller figures, and the same per week or per 50
  items (agreement with the final label and with each other rater);
- :mod:`.agreement`: percent agreement, Cohen's and Fleiss' kappa, confusion matrices;
- :mod:`.export`: final labels with their provenance as CSV;
- :mod:`.audit`: who did what, when.

What the pages call (each handler with a short ``with database.session() as session:``; keep
the :class:`~.users.Account` of the logged-in user in ``gr.State``, never in a module global):

- login / logout: ``users.authenticate(session, name, password) -> Account``, ``users.logout``;
- my queue: ``workflow.next_assignment(session, user, campaign) -> Task | None`` (the medium,
  the scale, whether a suggestion may be shown and which), ``workflow.submit_label(session,
  user, assignment_id, label=... | cannot_grade=..., note=, suggestion=)``,
  ``workflow.skip_assignment``;
- adjudication: ``workflow.adjudication_queue``, ``workflow.adjudication_case`` (both passes,
  the check with its ranges, the suggestion), ``workflow.decide(..., reason=)``;
- progress and agreement: ``campaigns.campaign_progress(session, c, by=user)``,
  ``agreement.campaign_agreement(session, c, scale, by=user)``;
- admin: ``users.add_user / set_disabled / list_users (by=user)``,
  ``campaigns.create_campaign / close_campaign / reopen_campaign (by=user)`` (a campaign also
  closes itself once every medium is decided: ``campaigns.close_if_done``),
  ``guideline.set_guideline``, ``second_check.run_second_check``;
- export, training, Label Studio sync: ``final.final_labels(session, scale)``,
  ``export.write_csv``;
- per-subject campaigns (``create_campaign(..., unit="visit")``): one grade per visit on an
  anchor medium, written to every medium of the visit (:mod:`.units`).

Every function that acts for a user checks the role itself (:func:`.users.require`) and raises
a typed :class:`~.model.LabellingError`; pages show its message.

Every write runs in :func:`fpgrade.storage.retry.in_transaction`; races (two raters, a double
submit, two adjudicators) are decided by the database: unique constraints and conditional
``UPDATE ... WHERE state = ...``, with the rows of one medium locked (``FOR UPDATE`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises writers anyway).
"""
