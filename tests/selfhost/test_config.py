"""Settings: flag > TCHAT_* environment > TOML file > default; refusals name the key;
``tchat-server config show`` prints the effective values with secrets masked."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tchat_server.config import SETTINGS, Argon2Params, ServerConfig
from tchat_server.settings import ConfigError, resolve
from tests.selfhost.conftest import ROOT, run_cli, server_env


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_server_config_defaults() -> None:
    resolved = resolve()
    assert resolved.config == ServerConfig()
    assert set(resolved.sources.values()) == {"default"}


def test_precedence_flag_over_env_over_file_over_default(tmp_path: Path) -> None:
    config = write(
        tmp_path / "server.toml",
        'port = 1111\nhost = "10.1.1.1"\nregistration = "open"\nrate_burst = 7\n'
        'data_dir = "state"\n',
    )
    env = {"TCHAT_PORT": "2222", "TCHAT_HOST": "10.2.2.2", "TCHAT_HOME": "/client/only"}
    resolved = resolve(file=config, env=env, flags={"port": "3333", "host": None})
    c = resolved.config
    assert c.port == 3333  # flag beats env and file
    assert c.host == "10.2.2.2"  # env beats file
    assert c.registration == "open"  # file beats default
    assert c.rate_burst == 7
    assert c.max_body == ServerConfig().max_body  # default
    assert c.data_dir == tmp_path / "state"  # relative to the file's folder
    assert resolved.sources["port"] == "flag --port"
    assert resolved.sources["host"] == "env TCHAT_HOST"
    assert resolved.sources["registration"] == f"file {config}"
    assert resolved.sources["max_body"] == "default"


def test_every_kind_of_value_from_env_and_file(tmp_path: Path) -> None:
    env = {
        "TCHAT_ALLOW_ORIGINS": "https://a.example, https://b.example",
        "TCHAT_TRUSTED_PROXIES": "127.0.0.1,10.0.0.0/8,::1",
        "TCHAT_SYNCHRONOUS": "normal",
        "TCHAT_SHUTDOWN_GRACE": "2.5",
        "TCHAT_ARGON2_TIME_COST": "1",
        "TCHAT_ARGON2_MEMORY_KIB": "1024",
        "TCHAT_ARGON2_PARALLELISM": "1",
        "TCHAT_METRICS_TOKEN": "s3cret",
        "TCHAT_TLS_CERT": "",  # empty: not set
    }
    c = resolve(env=env).config
    assert c.allowed_origins == ("https://a.example", "https://b.example")
    assert c.trusted_proxies == ("127.0.0.1/32", "10.0.0.0/8", "::1/128")
    assert c.synchronous == "NORMAL"
    assert c.shutdown_grace == 2.5
    assert c.argon2 == Argon2Params.cheap()
    assert c.metrics_token == "s3cret" and "s3cret" not in repr(c)
    assert c.tls_cert is None

    config = write(
        tmp_path / "c.toml",
        'allow_origins = ["https://c.example"]\nflood_window = 3\n'
        'tls_cert = "/etc/x/cert.pem"\ntls_key = "key.pem"\n',
    )
    c = resolve(file=config).config
    assert c.allowed_origins == ("https://c.example",)
    assert c.flood_window == 3.0 and isinstance(c.flood_window, float)
    assert c.tls_cert == Path("/etc/x/cert.pem") and c.tls_key == tmp_path / "key.pem"
    assert c.scheme == "wss"


@pytest.mark.parametrize(
    ("file_text", "env", "flags", "expected"),
    [
        ("prot = 80\n", {}, {}, "prot: unknown setting in "),
        ("[server]\nport = 80\n", {}, {}, "server: unknown setting"),
        ('port = "eighty"\n', {}, {}, "port: expected an integer, got 'eighty'"),
        ("max_body = true\n", {}, {}, "max_body: expected an integer, got True"),
        ("port = 1.5\n", {}, {}, "port: expected an integer"),
        ('registration = "maybe"\n', {}, {}, "registration: expected one of open, invite, closed"),
        ('allow_origins = "https://a"\n', {}, {}, "allow_origins: expected a list of strings"),
        ('host = ""\n', {}, {}, "host: expected a value"),
        ("", {"TCHAT_PROT": "80"}, {}, "TCHAT_PROT: unknown setting in the environment"),
        ("", {"TCHAT_PORT": "70000"}, {}, "port: must be from 0 to 65535, got '70000'"),
        ("", {"TCHAT_RATE_BURST": "0"}, {}, "rate_burst: must be at least 1"),
        ("", {"TCHAT_RATE_PER_SECOND": "nan"}, {}, "rate_per_second: expected a finite number"),
        ("", {"TCHAT_TRUSTED_PROXIES": "10.0.0.1,proxy"}, {}, "trusted_proxies: not an IP"),
        ("", {}, {"port": "-1"}, "port: must be from 0 to 65535, got '-1' (from flag --port)"),
        ("", {}, {"tls_cert": "cert.pem"}, "tls_cert, tls_key: set both or neither"),
        ("", {"TCHAT_METRICS_TOKEN": "x"}, {}, None),  # accepted: a control case
    ],
)
def test_refusals_name_the_key_and_the_source(
    tmp_path: Path,
    file_text: str,
    env: dict[str, str],
    flags: dict[str, str],
    expected: str | None,
) -> None:
    config = write(tmp_path / "server.toml", file_text)
    if expected is None:
        resolve(file=config, env=env, flags=flags)
        return
    with pytest.raises(ConfigError) as caught:
        resolve(file=config, env=env, flags=flags)
    assert expected in str(caught.value)


def test_a_refusal_lists_every_problem_and_suggests_a_key(tmp_path: Path) -> None:
    config = write(tmp_path / "server.toml", 'prot = 1\nport = "x"\n')
    with pytest.raises(ConfigError) as caught:
        resolve(file=config, env={"TCHAT_HOSTT": "a"})
    lines = str(caught.value).splitlines()
    assert len(lines) == 3
    assert "did you mean port?" in lines[0]
    assert "did you mean TCHAT_HOST?" in "\n".join(lines)


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        resolve(file=tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        resolve(file=write(tmp_path / "bad.toml", "port = = 1\n"))


def test_a_secret_is_never_echoed_in_a_refusal(tmp_path: Path) -> None:
    config = write(tmp_path / "server.toml", "metrics_token = 123456789\n")
    with pytest.raises(ConfigError) as caught:
        resolve(file=config)
    assert "metrics_token" in str(caught.value) and "123456789" not in str(caught.value)


async def test_config_show_prints_effective_values_with_their_source(tmp_path: Path) -> None:
    config = write(tmp_path / "server.toml", 'port = 1111\nmetrics_token = "hunter2-token"\n')
    env = server_env(registration="closed", host="0.0.0.0")
    code, out, err = await run_cli(
        "--config", str(config), "config", "show", "--host", "127.0.0.2", env=env
    )
    assert code == 0, err
    assert 'host = "127.0.0.2"  # flag --host' in out
    assert 'registration = "closed"  # env TCHAT_REGISTRATION' in out
    assert f"port = 1111  # file {config}" in out
    assert "argon2_time_cost = 1  # env TCHAT_ARGON2_TIME_COST" in out
    assert "hunter2-token" not in out and 'metrics_token = "********"' in out
    assert "# tls_cert is not set" in out

    # The output is TOML that, fed back as a file, gives the same configuration.
    shown = tomllib.loads(out)
    assert set(shown) == {s.key for s in SETTINGS} - {"tls_cert", "tls_key"}
    again = resolve(file=write(tmp_path / "again.toml", out.replace("********", "t")))
    assert again.config.port == 1111 and again.config.registration == "closed"


async def test_the_cli_refuses_bad_settings_with_exit_2(tmp_path: Path) -> None:
    config = write(tmp_path / "server.toml", "max_frame = 10\n")
    code, out, err = await run_cli(
        "--config",
        str(config),
        "--data-dir",
        str(tmp_path / "d"),
        "serve",
        env=server_env(port="x"),
    )
    assert code == 2 and out == ""
    assert "max_frame: must be from 1024" in err and "port: expected an integer" in err
    assert not (tmp_path / "d").exists()  # refused before anything was opened


def test_the_deploy_guide_lists_every_setting() -> None:
    guide = (ROOT / "docs" / "DEPLOY.md").read_text(encoding="utf-8")
    missing = [s.key for s in SETTINGS if f"`{s.key}`" not in guide or f"`{s.env}`" not in guide]
    assert missing == []
