"""No surprises for a newcomer at the terminal: a second `tikabot up` refuses before it touches the
first, and `tikabot phone` with nothing running says what to start instead of a traceback."""
from __future__ import annotations

import os
import socket

from click.testing import CliRunner

from tikabot.cli.main import main
from tikabot.stack.banner import STATE_FILE, UpState, write_state
from tikabot.stack.processes import free_port


def in_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'tikabot.db'}")
    monkeypatch.delenv("REDIS_URL", raising=False)


def test_a_second_up_refuses_and_leaves_the_first_ones_state_alone(monkeypatch, tmp_path):
    in_folder(monkeypatch, tmp_path)
    first = UpState(web="http://127.0.0.1:5000", simulator="http://127.0.0.1:8900",
                    twilio_auth_token="simulator-auth-token", ussd_token="t0k", pid=os.getppid())
    write_state(first)
    before = STATE_FILE.read_text()
    result = CliRunner().invoke(main, ["up", "--port", str(free_port())])
    assert result.exit_code == 1
    assert f"tikabot is already up here (process {os.getppid()}, web http://127.0.0.1:5000)" in result.output
    assert "Traceback" not in result.output and "tikabot is up" not in result.output
    assert STATE_FILE.read_text() == before  # the running one's phone tool still signs as it expects
    assert not (tmp_path / "instance" / "redis").exists() and not (tmp_path / "tikabot.db").exists()


def test_up_on_a_port_another_program_holds_refuses_before_starting_anything(monkeypatch, tmp_path):
    in_folder(monkeypatch, tmp_path)
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = CliRunner().invoke(main, ["up", "--port", str(port)])
    assert result.exit_code == 1
    assert f"port {port} is already in use by another program" in result.output and "--port" in result.output
    assert not STATE_FILE.exists() and not (tmp_path / "instance" / "redis").exists()


def test_a_state_file_left_by_a_killed_up_does_not_block_the_next(monkeypatch, tmp_path):
    in_folder(monkeypatch, tmp_path)
    write_state(UpState(web="http://127.0.0.1:5000", pid=2 ** 22 + 17))  # above pid_max: no such process
    from tikabot.stack.processes import refuse_if_running

    refuse_if_running(free_port())  # no exception: the file is stale


def test_phone_with_nothing_running_says_what_to_start(monkeypatch, tmp_path):
    in_folder(monkeypatch, tmp_path)
    port = free_port()
    result = CliRunner().invoke(main, ["phone", "+916591682483", "--url", f"http://127.0.0.1:{port}"],
                                input="START COVISHIELD LOT1\n")
    assert result.exit_code == 1
    assert f"nothing answers at http://127.0.0.1:{port}: start tikabot first (./run up, or tikabot up" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


def test_phone_against_a_certificate_nobody_trusts_says_so_not_that_nothing_answers(monkeypatch, tmp_path):
    """A fresh server before certbot: nginx answers with its placeholder certificate. The tool named
    the server as not running; it says the certificate is the trouble, and what to do."""
    import ssl
    import subprocess
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    in_folder(monkeypatch, tmp_path)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=placeholder",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True)

    class Healthy(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Healthy)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}"
        result = CliRunner().invoke(main, ["phone", "+916591682483", "--url", url], input="START COVISHIELD LOT1\n")
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 1
    assert f"{url} answers, but its certificate is not trusted (self-signed certificate)" in result.output
    assert "--url http://127.0.0.1:5000" in result.output and "nothing answers" not in result.output
    assert "Traceback" not in result.output
