"""Production mode's configuration (deploy/prodenv.py): secrets, nginx rendering, the run script.

Fast: nothing here starts a server or needs nginx, PostgreSQL or a model.
"""
from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from deploy import prodenv
from deploy.prodenv import COMPOSE_CONF, COMPOSE_TOPOLOGY, Topology, ensure_secrets, read_env_file, render_nginx

ROOT = Path(__file__).resolve().parent.parent


def _topology(**changes) -> Topology:
    values = dict(public="127.0.0.1:18080", action_listen="127.0.0.1:15055",
                  rasa=["127.0.0.1:5105", "127.0.0.1:5106"], actions=["127.0.0.1:5155", "127.0.0.1:5156"],
                  admin="127.0.0.1:8100", prefix="/tmp/mandat-nginx")
    values.update(changes)
    return Topology(**values)


def test_secrets_are_generated_once_with_mode_600(tmp_path):
    path = tmp_path / "sub" / "prod.env"
    first = ensure_secrets(path)
    assert set(first) == set(prodenv.SECRET_NAMES)
    assert all(len(v) == 64 and int(v, 16) >= 0 for v in first.values())
    assert len(set(first.values())) == 3
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_secrets(path) == first  # kept on the next start
    assert read_env_file(path) == first


def test_missing_weak_or_dev_secrets_are_replaced_and_the_mode_is_repaired(tmp_path):
    path = tmp_path / "prod.env"
    path.write_text("# mine\nMANDAT_PSEUDONYM_KEY=dev-only-change-me\nMANDAT_JWT_SECRET=keep-this-one\n"
                    "MANDAT_EXTRA=1\n")
    os.chmod(path, 0o644)
    values = ensure_secrets(path)
    assert values["MANDAT_JWT_SECRET"] == "keep-this-one"
    assert values["MANDAT_PSEUDONYM_KEY"] != "dev-only-change-me" and len(values["MANDAT_PSEUDONYM_KEY"]) == 64
    assert values["MANDAT_ADMIN_SECRET_KEY"]
    assert read_env_file(path)["MANDAT_EXTRA"] == "1"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_generated_secrets_pass_the_production_check(tmp_path, monkeypatch):
    from bot.config import development_secrets, get_settings

    values = ensure_secrets(tmp_path / "prod.env")
    monkeypatch.delenv("MANDAT_DEV_MODE", raising=False)
    monkeypatch.delenv("MANDAT_WIDGET_DEV_MODE", raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    assert development_secrets(get_settings()) == {}


def test_a_malformed_env_file_names_the_line(tmp_path):
    path = tmp_path / "prod.env"
    path.write_text("MANDAT_JWT_SECRET=x\nnot a line\n")
    with pytest.raises(ValueError, match=r"prod.env:2"):
        read_env_file(path)


def test_nginx_config_has_the_ports_stickiness_and_websocket_headers():
    conf = render_nginx(_topology())
    assert "{{" not in conf
    assert "listen 127.0.0.1:18080;" in conf and "listen 127.0.0.1:15055;" in conf
    for server in ("127.0.0.1:5105", "127.0.0.1:5106", "127.0.0.1:5155", "127.0.0.1:5156", "127.0.0.1:8100"):
        assert f"server {server}" in conf
    assert "hash $mandat_sio_key consistent;" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_set_header Connection $connection_upgrade;" in conf
    rest = conf.split("location /webhooks/rest/ {", 1)[1].split("}", 1)[0]
    assert "allow 127.0.0.1;" in rest and "deny all;" in rest


def test_unknown_placeholder_and_empty_upstream_are_refused(tmp_path):
    template = tmp_path / "t.conf"
    template.write_text("listen {{ public_listen }}; {{ nonsense }}")
    with pytest.raises(ValueError, match="nonsense"):
        render_nginx(_topology(), template)
    with pytest.raises(ValueError, match="at least one server"):
        render_nginx(_topology(rasa=[]))


def test_compose_nginx_config_is_the_rendered_template():
    assert COMPOSE_CONF.read_text(encoding="utf-8") == render_nginx(COMPOSE_TOPOLOGY), (
        "deploy/nginx/compose.conf is stale: run `python -m deploy.prodenv nginx --compose`")


@pytest.mark.skipif(not Path("/usr/sbin/nginx").exists(), reason="nginx is not installed")
def test_nginx_accepts_the_rendered_config(tmp_path):
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_nginx(_topology(prefix=str(tmp_path))))
    (tmp_path / "tmp").mkdir()
    result = subprocess.run(["/usr/sbin/nginx", "-t", "-q", "-c", str(conf), "-p", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_compose_files_name_every_service_and_env_example():
    import yaml

    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "rasa1", "rasa2", "actions1", "actions2", "admin", "nginx"} <= set(services)
    for service in services.values():
        for env_file in service.get("env_file", []):
            assert (ROOT / "deploy" / (env_file + ".example")).exists(), env_file
    endpoints = yaml.safe_load((ROOT / "deploy" / "compose" / "endpoints.yml").read_text())
    project = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    assert endpoints["tracker_store"] == project["tracker_store"]
    assert endpoints["lock_store"] == project["lock_store"]


def test_run_prod_script_parses_and_sourcing_starts_nothing():
    script = ROOT / "scripts" / "run_prod.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    result = subprocess.run(["bash", "-c", f"source {script}; type prod_main start_service stop_groups >/dev/null "
                             "&& echo ok"], capture_output=True, text=True, timeout=30)
    assert result.stdout.strip() == "ok", result.stderr
