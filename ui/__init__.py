"""fpgrade's browser pages (importable as ``fpgrade_ui``). The only package that imports gradio."""
