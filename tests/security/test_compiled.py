"""Hostile programs in other languages, each contained like its Python twin in test_containment.py:
C++ (built in the sandbox, spawned per test), Java (javac, then a JVM per test), Rust (slow: rustc)
and JavaScript (node, no build)."""
from __future__ import annotations

import os
import time
import uuid
from typing import NamedTuple

import pytest

from adversary import MARKER, marked_processes, open_sandbox, tcp_listener
from executor import Status
from executor.languages import find

STDIO = [{"type": "stdio", "input": "1 2\n", "output": "3\n"}, {"type": "stdio", "input": "5 7\n", "output": "12\n"}]
HONEST_CPP = "#include <cstdio>\nint main(){long long a,b;scanf(\"%lld %lld\",&a,&b);printf(\"%lld\\n\",a+b);}\n"
HONEST_JS = "const [a, b] = require('fs').readFileSync(0, 'utf8').split(/\\s+/).map(Number);\nconsole.log(a + b);\n"
HEAD = "".join(f"#include <{h}>\n" for h in ("cstdio", "cstdlib", "cstring", "fstream", "iostream", "string", "vector",
                                              "unistd.h", "signal.h", "sys/socket.h", "netinet/in.h", "arpa/inet.h")) \
    + "using namespace std;\n"

HONEST_JAVA = ("import java.util.*;\npublic class Main { public static void main(String[] args) {"
               " Scanner in = new Scanner(System.in); long a = in.nextLong(), b = in.nextLong();"
               " System.out.println(a + b); } }\n")
HONEST_RUST = ("use std::io::Read;\nfn main() { let mut s = String::new(); std::io::stdin().read_to_string(&mut s).unwrap();"
               " let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect(); println!(\"{}\", v[0] + v[1]); }\n")

needs_cpp = pytest.mark.skipif(find("cpp") is None, reason="no C++ toolchain on this host")
needs_java = pytest.mark.skipif(find("java") is None, reason="no JDK on this host")
needs_js = pytest.mark.skipif(find("javascript") is None, reason="no node on this host")
needs_rust = pytest.mark.skipif(find("rust") is None, reason="no Rust toolchain on this host")


def _cpp(attack, hostile: list[str], **kwargs):
    return attack([HEAD + h for h in hostile], STDIO, honest=HONEST_CPP, entry_point=None, language="cpp", **kwargs)


def _java(body: str) -> str:
    """A Java program whose main runs ``body`` (checked exceptions allowed)."""
    return ("import java.io.*;\nimport java.net.*;\nimport java.nio.file.*;\nimport java.util.*;\n"
            f"public class Main {{ public static void main(String[] args) throws Exception {{ {body} }} }}\n")


@pytest.fixture(scope="module")
def jvm_box():
    """An executor whose memory limit a JVM starts under (the suite's 512 MB RLIMIT_AS is too little:
    see test_java_needs_more_address_space_than_the_adversarial_limit)."""
    with open_sandbox(memory_mb=2048) as box:
        yield box


def _rows(m, rows) -> set[Status]:
    return {Status(int(s)) for row in rows for s in m.statuses[row]}


@needs_cpp
def test_cpp_infinite_loops_time_out(attack):
    m = _cpp(attack, ["int main(){ volatile unsigned long x = 0; while (true) x++; }",
                      "int main(){ signal(SIGTERM, SIG_IGN); signal(SIGALRM, SIG_IGN); while (true) pause(); }"])
    assert _rows(m, [1, 2]) <= {Status.TIMEOUT, Status.SKIPPED} and Status.TIMEOUT in _rows(m, [1, 2])


@needs_cpp
def test_cpp_fork_bomb_and_setsid_grandchild_are_contained(attack):
    escaper = (f"int main(){{ if (fork() == 0) {{ setsid(); if (fork() == 0) "
               f"execl(\"/bin/sh\", \"{MARKER}\", \"-c\", \"sleep 30\", (char*)0); _exit(0); }}"
               f" long a, b; scanf(\"%ld %ld\", &a, &b); printf(\"%ld\\n\", a - b); }}")
    m = _cpp(attack, ["int main(){ while (true) fork(); }", escaper])
    assert Status.PASS not in _rows(m, [1, 2])
    time.sleep(0.3)
    assert not marked_processes()


@needs_cpp
def test_cpp_memory_bombs(attack):
    m = _cpp(attack, ["int main(){ char *p = new char[1ull << 40]; p[0] = 1; puts(p); }",
                      "int main(){ vector<vector<char>> hog; while (true) hog.emplace_back(64 << 20, 1); }",
                      "int main(){ while (true) { char *p = (char*)malloc(64 << 20); if (!p) return 3; memset(p, 1, 64 << 20); } }"])
    assert _rows(m, [1]) == {Status.MEMORY}, m.details  # refused at once by RLIMIT_AS: std::bad_alloc
    assert "bad_alloc" in m.details[(1, 0)]
    # touching the pages may outlast the deadline on a loaded machine: TIMEOUT is fine there
    assert _rows(m, [2, 3]) <= {Status.MEMORY, Status.CRASH, Status.ERROR, Status.TIMEOUT, Status.SKIPPED}


class Bait(NamedTuple):
    """Files on the host for a program to read (``secret``), overwrite (``victim``) and delete
    (``doomed``), and a host path in /tmp to create (``escape``)."""

    secret: str
    secret_path: str
    victim: str
    doomed: str
    escape: str

    @classmethod
    def laid_in(cls, tmp_path) -> "Bait":
        out = cls(f"SECRET-{uuid.uuid4().hex}", str(tmp_path / "secret.txt"), str(tmp_path / "victim.txt"),
                  str(tmp_path / "delete_me.txt"), f"/tmp/{MARKER}-written-{uuid.uuid4().hex}")
        for path, text in ((out.secret_path, out.secret), (out.victim, "original"), (out.doomed, "still here")):
            with open(path, "w") as f:
                f.write(text)
        return out

    def untouched(self, m) -> None:
        assert self.secret not in "".join(list(m.details.values()) + list(m.outputs.values()))
        with open(self.victim) as victim, open(self.doomed) as doomed:
            assert victim.read() == "original" and doomed.read() == "still here"
        assert not os.path.exists(self.escape)


@needs_cpp
def test_cpp_cannot_read_or_write_outside_its_cell(attack, tmp_path):
    bait = Bait.laid_in(tmp_path)
    hostile = (f"int main(){{ string s; ifstream f(\"{bait.secret_path}\"); getline(f, s); cout << s << endl;"
               f" ifstream g(\"/etc/shadow\"); getline(g, s); cout << s << endl;"
               f" ofstream(\"{bait.victim}\") << \"overwritten\"; ofstream(\"{bait.escape}\") << \"escaped\";"
               f" remove(\"{bait.doomed}\"); rename(\"{bait.victim}\", \"{bait.escape}\"); return 0; }}")
    bait.untouched(_cpp(attack, [hostile]))


@needs_cpp
def test_cpp_cannot_connect_to_a_local_listener(attack):
    with tcp_listener() as listener:
        port = listener.getsockname()[1]
        hostile = (f"int main(){{ int s = socket(AF_INET, SOCK_STREAM, 0); sockaddr_in a{{}}; a.sin_family = AF_INET;"
                   f" a.sin_port = htons({port}); a.sin_addr.s_addr = inet_addr(\"127.0.0.1\");"
                   f" if (connect(s, (sockaddr*)&a, sizeof a) == 0) {{ send(s, \"hello\", 5, 0); puts(\"3\"); return 0; }}"
                   f" perror(\"connect\"); return 1; }}")
        m = _cpp(attack, [hostile])
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert "connect" in m.details[(1, 0)]


@needs_cpp
def test_cpp_signalling_the_parent_and_everything(attack):
    pid = os.getpid()
    hostile = ["int main(){ kill(getppid(), SIGKILL); puts(\"3\"); }",
               "int main(){ kill(-1, SIGKILL); puts(\"3\"); }",
               "int main(){ killpg(0, SIGKILL); puts(\"3\"); }",
               "int main(){ for (int sig : {9, 15, 2, 19}) for (int t : {0, -1, 1, (int)getppid(), -(int)getpgid(getppid())})"
               " kill(t, sig); puts(\"3\"); }"]
    m = _cpp(attack, hostile)
    assert os.getpid() == pid and m.shape == (5, 2)


@needs_js
def test_javascript_needs_more_address_space_than_the_adversarial_limit(attack):
    """V8 reserves ~800 MB of address space at start: under the suite's 512 MB RLIMIT_AS node cannot
    start, and says so (a MEMORY verdict, never a PASS)."""
    m = attack(["console.log(3);"], STDIO[:1], honest=HONEST_CPP, entry_point=None, language=["cpp", "javascript"])
    assert m.status_names()[1] == ["MEMORY"] and "reserve virtual memory" in m.details[(1, 0)]


@needs_js
def test_javascript_hostile_programs_are_contained(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("original")
    hostile = [
        "while (true) {}",
        "const cp = require('child_process');\nwhile (true) { try { cp.spawn(process.execPath, ['-e', 'setInterval(() => 0, 1000)', "
        f"'{MARKER}'], {{detached: true}}); }} catch (e) {{}} }}",
        "const hog = [];\nwhile (true) hog.push(new Array(1 << 20).fill(1.5));",
        f"require('fs').writeFileSync('{victim}', 'overwritten');\nconsole.log(3);",
        "try { process.kill(process.ppid, 'SIGKILL'); process.kill(-1, 'SIGKILL'); } catch (e) {}\nconsole.log(3);",
    ]
    with open_sandbox(memory_mb=2048) as box:
        m = box.attack(hostile, STDIO, honest=HONEST_JS, entry_point=None, language="javascript")
    assert _rows(m, [1]) <= {Status.TIMEOUT, Status.SKIPPED}
    assert victim.read_text() == "original"
    time.sleep(0.3)
    assert not marked_processes()


@needs_java
def test_java_needs_more_address_space_than_the_adversarial_limit(attack):
    """The JVM reserves its heap at start: under the suite's 512 MB RLIMIT_AS it cannot, and says so
    (a MEMORY verdict with the VM's message, never a PASS)."""
    m = attack([HONEST_JAVA], STDIO[:1], honest=HONEST_CPP, entry_point=None, language=["cpp", "java"])
    assert m.status_names()[1] == ["MEMORY"] and "Could not reserve enough space" in m.details[(1, 0)], m.details


@needs_java
def test_java_cannot_read_or_write_outside_its_cell(jvm_box, tmp_path):
    bait = Bait.laid_in(tmp_path)
    attempts = [f"System.out.println(Files.readString(Path.of(\"{bait.secret_path}\")));",
                "System.out.println(Files.readString(Path.of(\"/etc/shadow\")));",
                f"Files.writeString(Path.of(\"{bait.victim}\"), \"overwritten\");",
                f"Files.writeString(Path.of(\"{bait.escape}\"), \"escaped\");",
                f"Files.delete(Path.of(\"{bait.doomed}\"));",
                f"Files.move(Path.of(\"{bait.victim}\"), Path.of(\"{bait.escape}\"));"]
    hostile = _java(" ".join(f"try {{ {a} }} catch (Exception e) {{ System.err.println(e); }}" for a in attempts)
                    + " System.out.println(\"ran\");")
    m = jvm_box.attack([hostile], STDIO, honest=HONEST_JAVA, entry_point=None, language="java")
    assert "ran" in m.details[(1, 0)], m.details  # the JVM ran every attempt
    bait.untouched(m)


@pytest.mark.slow
@needs_java
def test_java_infinite_loops_time_out(jvm_box):
    """A busy loop, a shutdown hook that never ends (what SIGTERM would run), and a thread that keeps
    the JVM alive after main returns."""
    hostile = [_java("long x = 0; while (true) x++;"),
               _java("Runtime.getRuntime().addShutdownHook(new Thread(() -> { while (true) { } }));"
                     " while (true) Thread.sleep(1000);"),
               _java("new Thread(() -> { while (true) { } }).start();")]
    m = jvm_box.attack(hostile, STDIO, honest=HONEST_JAVA, entry_point=None, language="java")
    assert _rows(m, [1, 2, 3]) <= {Status.TIMEOUT, Status.SKIPPED} and Status.TIMEOUT in _rows(m, [1, 2, 3])


@pytest.mark.slow
@needs_java
def test_java_process_bomb_and_orphaned_grandchildren_are_contained(jvm_box):
    """ProcessBuilder in a loop, and a program that leaves a new session and an orphan behind it and
    exits: no process outlives the run."""
    spawn = f"new ProcessBuilder(\"/bin/sh\", \"-c\", %s, \"{MARKER}\").start();"
    bomb = _java("while (true) { try { " + spawn % '"sleep 30; :"' + " } catch (IOException e) { } }")
    escaper = _java(spawn % f'"setsid /bin/sh -c \'sleep 30; :\' {MARKER} & (sleep 30; :) &"'
                    + " Scanner in = new Scanner(System.in); System.out.println(in.nextLong() - in.nextLong());")
    m = jvm_box.attack([bomb, escaper], STDIO, honest=HONEST_JAVA, entry_point=None, language="java")
    assert Status.PASS not in _rows(m, [1, 2])
    time.sleep(0.3)
    assert not marked_processes()


@pytest.mark.slow
@needs_java
def test_java_memory_bombs(jvm_box):
    m = jvm_box.attack([_java("long[] p = new long[Integer.MAX_VALUE - 8]; System.out.println(p[0]);"),
                        _java("List<long[]> hog = new ArrayList<>(); while (true) hog.add(new long[1 << 24]);")],
                       STDIO, honest=HONEST_JAVA, entry_point=None, language="java")
    assert _rows(m, [1]) == {Status.MEMORY} and "OutOfMemoryError" in m.details[(1, 0)], m.details
    assert _rows(m, [2]) <= {Status.MEMORY, Status.TIMEOUT, Status.SKIPPED}, m.details


@pytest.mark.slow
@needs_java
def test_java_cannot_connect_or_signal_out(jvm_box):
    """A socket to a loopback listener on the host, and killing the parent and every process it sees."""
    pid = os.getpid()
    with tcp_listener() as listener:
        port = listener.getsockname()[1]
        hostile = [_java(f"new Socket(\"127.0.0.1\", {port}).getOutputStream().write(1); System.out.println(3);"),
                   _java("ProcessHandle.current().parent().ifPresent(ProcessHandle::destroyForcibly);"
                         " System.out.println(3);"),
                   _java("ProcessHandle.allProcesses().forEach(ProcessHandle::destroyForcibly); System.out.println(3);")]
        m = jvm_box.attack(hostile, STDIO, honest=HONEST_JAVA, entry_point=None, language="java")
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert "java.net." in m.details[(1, 0)], m.details
    assert os.getpid() == pid and m.shape == (4, 2)


@pytest.mark.slow
@needs_rust
def test_rust_infinite_loop_and_writes_outside_its_cell(attack, tmp_path):
    """rustc builds in the sandbox too; its programs are held like C++'s."""
    bait = Bait.laid_in(tmp_path)
    hostile = ["fn main() { let mut x: u64 = 0; loop { x = std::hint::black_box(x + 1); } }",
               f"fn main() {{ let _ = std::fs::write(\"{bait.victim}\", \"overwritten\");"
               f" let _ = std::fs::write(\"{bait.escape}\", \"escaped\"); let _ = std::fs::remove_file(\"{bait.doomed}\");"
               f" let _ = std::fs::rename(\"{bait.victim}\", \"{bait.escape}\"); println!(\"ran\"); }}"]
    m = attack(hostile, STDIO, honest=HONEST_RUST, entry_point=None, language="rust")
    assert "ran" in m.details[(2, 0)], m.details
    assert _rows(m, [1]) <= {Status.TIMEOUT, Status.SKIPPED} and Status.TIMEOUT in _rows(m, [1]), m.details
    bait.untouched(m)


@needs_cpp
def test_the_compiler_is_sandboxed_too(tmp_path):
    """Source that attacks the compiler: including a secret from outside the sandbox quotes nothing of
    it; including an endless device or a template recursion bomb ends at the compile limits, as an ERROR."""
    secret = f"SECRET-{uuid.uuid4().hex}"
    (tmp_path / "secret.h").write_text(f"{secret}\n")
    hostile = [f"#include \"{tmp_path / 'secret.h'}\"\nint main(){{}}\n",
               "#include \"/dev/zero\"\nint main(){}\n",
               "template<int N> struct B { enum { v = B<N + 1>::v + B<N + 2>::v }; };\n"
               "int main(){ return B<0>::v; }\n"]
    with open_sandbox(compile_timeout=4.0, compile_memory_mb=512) as box:
        m = box.attack(hostile, STDIO[:1], honest=HONEST_CPP, entry_point=None, language="cpp",
                       bound=60.0)
    assert m.status_names()[1:] == [["ERROR"]] * 3, m.details
    assert all(m.details[(i, 0)].startswith("compilation") for i in (1, 2, 3)), m.details
    assert secret not in "".join(m.details.values())
