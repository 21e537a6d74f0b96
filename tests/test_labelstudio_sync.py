"""Label Studio sync against a real Label Studio server (issue 12)."""

from __future__ import annotations

import os


def test_the_server_answers_the_sdk_with_the_headless_token(labelstudio):
    from label_studio_sdk import LabelStudio

    client = LabelStudio(base_url=labelstudio.url, api_key=labelstudio.token)
    assert list(client.projects.list()) == []
    project = client.projects.create(title="smoke", label_config=(
        '<View><Image name="image" value="$image"/>'
        '<Choices name="grade" toName="image"><Choice value="N"/></Choices></View>'))
    assert [p.title for p in client.projects.list()] == ["smoke"]
    client.projects.delete(id=project.id)
    os.kill(labelstudio.pid, 0)  # still ours, still running: the fixture stops it by this PID
