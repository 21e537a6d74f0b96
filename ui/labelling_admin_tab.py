"""The admin tab of the labelling pages (split from :mod:`.labelling_app`): users, campaigns
(create, close, reopen, the raters' guideline), the second check and manifest import. Every event calls a handler of
:mod:`.labelling_admin`, which checks the ``admin`` permission on the server."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from fpgrade.errors import FpgradeError
from fpgrade.labelling.model import Role
from fpgrade_ui import labelling_admin as adm
from fpgrade_ui import labelling_guideline as guide
from fpgrade_ui.labelling_events import KEEP, as_user, guarded

ROLES = [r.value for r in Role]


def build() -> SimpleNamespace:
    """The tab's components (call inside ``gr.Tabs()``)."""
    with gr.Tab("Admin", id="admin", visible=False,
                elem_id="admin-view") as tab:
        admin_message = gr.Markdown(elem_id="admin-message", elem_classes="message")
        users = gr.Dataframe(headers=["user", "role", "state"], label="Users",
                             interactive=False, elem_id="users-table")
        with gr.Row():
            new_name = gr.Textbox(label="New user (a login, never a patient's name)",
                                  elem_id="new-user")
            new_password = gr.Textbox(label="Password (8+ characters)",
                                      type="password", elem_id="new-password")
            new_role = gr.Dropdown(ROLES, value="labeller", label="Role",
                                   elem_id="new-role")
            add_button = gr.Button("Add user", elem_id="add-user")
        with gr.Row():
            who = gr.Textbox(label="User", elem_id="disable-user")
            disable_button = gr.Button("Disable", elem_id="disable-button")
            enable_button = gr.Button("Enable", elem_id="enable-button")
        with gr.Row():
            other_role = gr.Dropdown(ROLES, value="labeller",
                                     label="New role of this user",
                                     elem_id="other-role")
            role_button = gr.Button("Change role", elem_id="role-button")
            reset_password = gr.Textbox(label="New password (8+ characters)",
                                        type="password", elem_id="reset-password")
            reset_button = gr.Button("Reset password", elem_id="reset-button")
        gr.Markdown("### Campaigns")
        with gr.Row():
            c_name = gr.Textbox(label="New campaign", elem_id="campaign-name")
            c_scale = gr.Dropdown(adm.scale_choices(), label="Scale",
                                  elem_id="campaign-scale")
            c_movements = gr.Textbox(label="Movements (e.g. MV0, MV4; empty: all)",
                                     elem_id="campaign-movements")
            c_passes = gr.Radio([2, 3], value=2, label="Blind passes",
                                elem_id="campaign-passes")
            c_suggest = gr.Checkbox(label="Show model suggestions in blind passes",
                                    elem_id="campaign-suggestions")
            c_no_play = gr.Checkbox(label="Videos may be graded without playing them to the "
                                    "end", elem_id="campaign-no-play")
            c_per_visit = gr.Checkbox(label="One grade per subject's visit (all its movements "
                                      "side by side)", elem_id="campaign-per-visit")
            create_button = gr.Button("Create", elem_id="create-campaign")
        with gr.Row():
            campaign = gr.Dropdown([], label="Campaign", elem_id="admin-campaign")
            check_button = gr.Button("Run the second check", elem_id="run-check")
            close_button = gr.Button("Close campaign", elem_id="close-campaign")
            reopen_button = gr.Button("Reopen campaign", elem_id="reopen-campaign")
        with gr.Accordion("Guideline of the chosen campaign (Markdown; raters open it with G)",
                          open=False, elem_id="guideline-editor"):
            with gr.Row():
                guideline_text = gr.Textbox(label="Guideline (Markdown: no HTML, links only "
                                            "to http(s) or mailto)", lines=8, max_lines=16,
                                            elem_id="guideline-markdown")
                guideline_preview = gr.HTML(elem_id="guideline-preview", max_height=260)
            guideline_save = gr.Button("Save guideline", elem_id="guideline-save")
        with gr.Row():
            manifest = gr.Textbox(label="Import a manifest CSV on the server "
                                  "(fpgrade import's format)", elem_id="manifest")
            import_button = gr.Button("Import", elem_id="import-button", scale=0)
    return SimpleNamespace(
        tab=tab, admin_message=admin_message, users=users, new_name=new_name,
        new_password=new_password, new_role=new_role, add_button=add_button, who=who,
        disable_button=disable_button, enable_button=enable_button, other_role=other_role,
        role_button=role_button, reset_password=reset_password, reset_button=reset_button,
        c_name=c_name, c_scale=c_scale, c_movements=c_movements, c_passes=c_passes,
        c_suggest=c_suggest, c_no_play=c_no_play, c_per_visit=c_per_visit,
        create_button=create_button, campaign=campaign,
        check_button=check_button, close_button=close_button, reopen_button=reopen_button,
        manifest=manifest, import_button=import_button, guideline_text=guideline_text,
        guideline_preview=guideline_preview, guideline_save=guideline_save)


def wire(c: SimpleNamespace, choices, campaign_dropdowns: list) -> None:
    """The tab's events; ``choices(me)``: every campaign dropdown's choices for an account."""
    tab = c.tab
    admin_message = c.admin_message
    users = c.users
    new_name = c.new_name
    new_password = c.new_password
    new_role = c.new_role
    add_button = c.add_button
    who = c.who
    disable_button = c.disable_button
    enable_button = c.enable_button
    other_role = c.other_role
    role_button = c.role_button
    reset_password = c.reset_password
    reset_button = c.reset_button
    c_name = c.c_name
    c_scale = c.c_scale
    c_movements = c.c_movements
    c_passes = c.c_passes
    c_suggest = c.c_suggest
    c_no_play = c.c_no_play
    c_per_visit = c.c_per_visit
    create_button = c.create_button
    campaign = c.campaign
    check_button = c.check_button
    close_button = c.close_button
    reopen_button = c.reopen_button
    manifest = c.manifest
    import_button = c.import_button
    guideline_text = c.guideline_text
    guideline_preview = c.guideline_preview
    guideline_save = c.guideline_save

    @guarded(KEEP)
    def on_users(me):
        return adm.users_table(me), ""

    tab.select(as_user(on_users), None, [users, admin_message], api_name="users")

    def admin_action(fn):
        @guarded(KEEP)
        def run(me, *args):
            message = fn(me, *args)
            return adm.users_table(me), message
        return run

    @guarded(KEEP, KEEP)
    def on_add(me, user, secret, role):
        message = adm.add_user(me, user, secret, role)
        return adm.users_table(me), "", message   # the password is not kept in the form

    add_button.click(as_user(on_add), [new_name, new_password, new_role],
                     [users, new_password, admin_message], api_name="add_user")
    disable_button.click(as_user(admin_action(lambda me, n: adm.set_disabled(me, n, True))),
                         [who], [users, admin_message], api_name="disable_user")
    enable_button.click(as_user(admin_action(lambda me, n: adm.set_disabled(me, n, False))),
                        [who], [users, admin_message], api_name="enable_user")
    role_button.click(as_user(admin_action(adm.set_role)), [who, other_role],
                      [users, admin_message], api_name="set_role")

    @guarded(KEEP, KEEP)
    def on_reset(me, user, secret):
        message = adm.reset_password(me, user, secret)
        return adm.users_table(me), "", message   # the password is not kept in the form

    reset_button.click(as_user(on_reset), [who, reset_password],
                       [users, reset_password, admin_message], api_name="reset_password")

    @guarded(*[KEEP] * 4)
    def on_campaign_change(me, fn, *args):
        return (*choices(me), fn(me, *args))

    create_button.click(
        as_user(lambda me, *a: on_campaign_change(me, adm.create_campaign, *a)),
        [c_name, c_scale, c_movements, c_passes, c_suggest, c_no_play, c_per_visit],
        [*campaign_dropdowns, admin_message], api_name="create_campaign")
    close_button.click(
        as_user(lambda me, x: on_campaign_change(me, adm.close_campaign, x)), [campaign],
        [*campaign_dropdowns, admin_message], api_name="close_campaign")
    reopen_button.click(
        as_user(lambda me, x: on_campaign_change(me, adm.reopen_campaign, x)), [campaign],
        [*campaign_dropdowns, admin_message], api_name="reopen_campaign")
    check_button.click(as_user(guarded()(adm.run_second_check)), [campaign],
                       admin_message, api_name="second_check")
    import_button.click(as_user(guarded()(adm.import_manifest)), [manifest], admin_message,
                        api_name="import_manifest")

    def on_pick(me, chosen):   # the chosen campaign's guideline into the editor
        try:
            return guide.stored(me, chosen)
        except FpgradeError:
            return KEEP

    campaign.change(as_user(on_pick), [campaign], [guideline_text], api_name=False)
    guideline_save.click(as_user(guarded(KEEP)(guide.save)), [campaign, guideline_text],
                         [guideline_preview, admin_message], api_name="set_guideline")
