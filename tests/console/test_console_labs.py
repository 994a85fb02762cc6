"""`lab review FILE` in the console: a Dockerfile or compose file from disk, or a refusal."""

from __future__ import annotations

from pathlib import Path

from tests.console.test_console import transcript


async def test_lab_review_reads_a_compose_file_or_a_dockerfile(
    database_url: str, tmp_path: Path
) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  db:\n    image: postgres\n    privileged: true\n")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text('FROM busybox:1.36\nENV API_TOKEN=abc123\nCMD ["true"]\n')
    (tmp_path / "folder").mkdir()
    text = await transcript(
        database_url,
        tmp_path,
        f"lab review {compose}",
        f"lab review {dockerfile}",
        f"lab review {tmp_path / 'missing.yaml'}",
        f"lab review {tmp_path / 'folder'}",
        "lab",
    )
    assert f"Compose file review of {compose}" in text
    assert "L4: Remove `privileged: true`" in text and "see Part 12 · Container security" in text
    assert f"Dockerfile review of {dockerfile}" in text
    assert "secret-in-config" in text
    assert f"! There is no file {tmp_path / 'missing.yaml'}." in text
    assert "is a folder" in text
    assert "! Give a file: lab review Dockerfile" in text
