"""Usage errors quote what was typed; a key among it is never printed (CI logs keep stderr)."""

from __future__ import annotations

import pytest

from meshy_blender.cli_args import build_parser

KEY = "msy_usage_error_secret_5f0c2a9d"


@pytest.mark.parametrize(
    ("argv", "kept"),
    [
        (["balance", "--api-kye", KEY], "unrecognized arguments: --api-kye msy_***"),  # a typo in the option
        (["balance", KEY], "unrecognized arguments: msy_***"),  # the key given without its option
        (["tasks", "list", "--kind", KEY], "invalid choice: 'msy_***'"),
        (["text-to-3d", "--prompt", "a", "--timeout", KEY, "-o", "a.glb"], "invalid _positive_float value"),
    ],
)
def test_a_key_in_a_usage_error_is_hidden(capsys: pytest.CaptureFixture[str], argv: list[str], kept: str) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser("meshy").parse_args(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert kept in err
    assert KEY not in err


def test_the_environment_key_is_hidden_whatever_it_looks_like(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MESHY_API_KEY", "custom-proxy-token-31337")
    with pytest.raises(SystemExit):
        build_parser("meshy").parse_args(["balance", "custom-proxy-token-31337"])
    err = capsys.readouterr().err
    assert "unrecognized arguments: ***" in err
    assert "31337" not in err
