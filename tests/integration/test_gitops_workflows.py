"""The example workflows and the composite action, run step by step against the sandbox.

A small runner below executes a job of a workflow file the way GitHub Actions would: the
``run:`` scripts of the workflow and of ``action.yml`` run unchanged in bash, ``${{ }}``
expressions and ``if:`` conditions are evaluated, ``GITHUB_OUTPUT`` / ``GITHUB_ENV`` /
``GITHUB_STEP_SUMMARY`` are files. What it cannot run it handles explicitly:
``actions/checkout`` (the workspace is prepared by the test), ``actions/setup-python`` (the
test's interpreter is first on PATH, so the action's install step finds portalctl already
installed) and ``actions/upload-artifact`` (it checks the files exist). ``gh`` is a recording
stand-in for GitHub's REST API (comments and issues); the portal API is the real sandbox.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import structlog
import yaml

from reconciler import logs
from reconciler.cli import run
from reconciler.errors import ExitCode

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / "examples" / "github"
ACTION = "portalctl/portalctl@"
MARKER = "<!-- portalctl-plan -->"


@pytest.fixture(autouse=True)
def _forget_logging_setup() -> Iterator[None]:
    # run() configures structlog and the root logger (level, stream); leave no trace.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    logs.reset()
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


# --- ${{ expressions }} ---------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||[!(),])"
    r"|(?P<name>[A-Za-z_][\w.*-]*))"
)


class Expr:
    """Evaluates the subset of the GitHub Actions expression language the workflows use:
    literals, context paths, ``== != ! && ||``, parentheses and status functions."""

    def __init__(self, text: str, context: Mapping[str, Any], *, failed: bool = False) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos, text = 0, text.strip()
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos:
                raise ValueError(f"cannot parse expression {text!r} at {pos}")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            pos = match.end()
        self.pos = 0
        self.context = context
        self.failed = failed

    def value(self) -> Any:
        result = self._or()
        if self.pos != len(self.tokens):
            raise ValueError(f"trailing tokens in expression: {self.tokens[self.pos :]}")
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def _next(self) -> tuple[str, str]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def _or(self) -> Any:
        left = self._and()
        while self._peek() == "||":
            self._next()
            right = self._and()
            left = left if truthy(left) else right
        return left

    def _and(self) -> Any:
        left = self._eq()
        while self._peek() == "&&":
            self._next()
            right = self._eq()
            left = right if truthy(left) else left
        return left

    def _eq(self) -> Any:
        left = self._unary()
        if self._peek() in ("==", "!="):
            op = self._next()[1]
            right = self._unary()
            same = loose_equal(left, right)
            return same if op == "==" else not same
        return left

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._next()
            return not truthy(self._unary())
        return self._primary()

    def _primary(self) -> Any:
        kind, text = self._next()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        if text == "(":
            inner = self._or()
            assert self._next()[1] == ")"
            return inner
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        if self._peek() == "(":
            self._next()
            assert self._next()[1] == ")", "only argument-less functions are supported"
            return {
                "always": True,
                "success": not self.failed,
                "failure": self.failed,
                "cancelled": False,
            }[text]
        node: Any = self.context
        for part in text.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        return node


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "")


def loose_equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    return bool(left == right)


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def interpolate(text: str, context: Mapping[str, Any]) -> str:
    return re.sub(
        r"\$\{\{(.*?)\}\}", lambda m: as_text(Expr(m.group(1), context).value()), str(text)
    )


# --- the runner -----------------------------------------------------------------------------


@dataclass
class StepResult:
    name: str
    outcome: str  # success | failure | skipped
    code: int = 0
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class JobResult:
    steps: list[StepResult]
    artifacts: dict[str, list[Path]]

    @property
    def failed(self) -> bool:
        return any(step.outcome == "failure" for step in self.steps)

    def step(self, name: str) -> StepResult:
        return next(s for s in self.steps if s.name == name)


def parse_command_file(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT / GITHUB_ENV: ``name=value`` lines and ``name<<DELIM`` blocks."""
    out: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            end = lines.index(delim, i + 1)
            out[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        name, _, value = line.partition("=")
        out[name] = value
        i += 1
    return out


class Runner:
    """Runs one job of a workflow file in ``workspace``; see the module docstring."""

    def __init__(
        self,
        workspace: Path,
        scratch: Path,
        *,
        event_name: str,
        event: Mapping[str, Any],
        inputs: Mapping[str, Any] | None = None,
        vars: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = None,
    ) -> None:
        self.workspace = workspace
        self.scratch = scratch
        self.temp = scratch / "runner-temp"
        self.summary = scratch / "step-summary.md"
        self.temp.mkdir(parents=True, exist_ok=True)
        self.github = {
            "event_name": event_name,
            "event": dict(event),
            "repository": "acme/billing",
            "server_url": "https://github.com",
            "run_id": "4242",
            "token": "ghs_faketoken",
            "workspace": str(workspace),
            "action_path": str(REPO),
        }
        self.inputs = dict(inputs or {})
        self.vars = dict(vars or {})
        self.secrets = dict(secrets or {})
        self.job_env: dict[str, str] = {}
        self.counter = 0

    def base_env(self) -> dict[str, str]:
        python_bin = str(Path(sys.executable).parent)
        fake_bin = [os.environ["FAKE_GH_BIN"]] if "FAKE_GH_BIN" in os.environ else []
        return {
            "PATH": os.pathsep.join([*fake_bin, python_bin, "/usr/bin", "/bin"]),
            "HOME": str(self.scratch),
            "LANG": "C.UTF-8",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            # The stand-in runner has no real portal: choose the sandbox on purpose, since in
            # CI portalctl refuses to fall back to it silently.
            "PORTAL_API_URL": "sandbox",
            "GITHUB_REPOSITORY": self.github["repository"],
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "RUNNER_TEMP": str(self.temp),
            # The action's install step skips pip when the same source is already installed.
            "PORTALCTL_INSTALLED": str(REPO),
            **{k: v for k, v in os.environ.items() if k.startswith("FAKE_GH_")},
        }

    def run_job(self, workflow: Path, job: str) -> JobResult:
        doc = yaml.safe_load(workflow.read_text(encoding="utf-8"))
        context = self._context(env={})
        workflow_env = {k: interpolate(v, context) for k, v in (doc.get("env") or {}).items()}
        self.job_env = dict(workflow_env)
        results: list[StepResult] = []
        artifacts: dict[str, list[Path]] = {}
        step_outputs: dict[str, Any] = {}
        failed = False
        for index, step in enumerate(doc["jobs"][job]["steps"]):
            name = step.get("name") or step.get("uses") or f"step {index}"
            context = self._context(env=self.job_env, steps=step_outputs)
            condition = str(step.get("if", "success()")).strip()
            condition = condition.removeprefix("${{").removesuffix("}}")
            if not re.search(r"\b(always|success|failure|cancelled)\(", condition):
                condition = f"success() && ({condition})"  # GitHub's implicit status check
            if not truthy(Expr(condition, context, failed=failed).value()):
                results.append(StepResult(name, "skipped"))
                continue
            step_env = {k: interpolate(v, context) for k, v in (step.get("env") or {}).items()}
            uses = step.get("uses", "")
            with_ = {k: interpolate(v, context) for k, v in (step.get("with") or {}).items()}
            if uses.startswith(ACTION):
                result = self._run_action(name, with_, step_env)
            elif uses.startswith("actions/upload-artifact@"):
                paths = [self.workspace / p for p in with_["path"].split()]
                missing = [p for p in paths if not p.exists()]
                result = StepResult(name, "failure" if missing else "success")
                artifacts[with_["name"]] = paths
            elif uses.startswith(("actions/checkout@", "actions/setup-python@")):
                result = StepResult(name, "success")
            elif "run" in step:
                result = self._run_script(
                    name,
                    interpolate(step["run"], context),
                    {**self.job_env, **step_env},
                    ["bash", "-e"],
                )
            else:
                raise AssertionError(f"the runner does not know how to run {step}")
            results.append(result)
            if "id" in step:
                step_outputs[step["id"]] = {"outputs": result.outputs, "outcome": result.outcome}
            failed = failed or result.outcome == "failure"
        return JobResult(results, artifacts)

    def _context(
        self,
        *,
        env: Mapping[str, str],
        steps: Mapping[str, Any] | None = None,
        inputs: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        return {
            "github": self.github,
            "env": dict(env),
            "vars": self.vars,
            "secrets": self.secrets,
            "inputs": self.inputs if inputs is None else inputs,
            "steps": dict(steps or {}),
            "runner": {"temp": str(self.temp), "os": "Linux"},
        }

    def _run_action(
        self, name: str, with_: Mapping[str, str], step_env: Mapping[str, str]
    ) -> StepResult:
        action = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
        unknown = set(with_) - set(action["inputs"])
        assert not unknown, f"{name}: inputs not declared by action.yml: {unknown}"
        inputs = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
        inputs.update(with_)
        inner: dict[str, Any] = {}
        combined = StepResult(name, "success")
        env = {**self.job_env, **step_env}
        for step in action["runs"]["steps"]:
            if step.get("uses", "").startswith("actions/setup-python@"):
                continue
            context = self._context(env=env, steps=inner, inputs=inputs)
            inner_env = {k: interpolate(v, context) for k, v in (step.get("env") or {}).items()}
            assert step["shell"] == "bash"
            result = self._run_script(
                step["name"],
                interpolate(step["run"], context),
                {**env, **inner_env},
                ["bash", "--noprofile", "--norc", "-eo", "pipefail"],
            )
            inner[step["id"]] = {"outputs": result.outputs}
            combined.stdout += result.stdout
            combined.stderr += result.stderr
            combined.code = result.code
            if result.outcome == "failure":
                combined.outcome = "failure"
                break
        context = self._context(env=env, steps=inner, inputs=inputs)
        combined.outputs = {
            k: interpolate(v["value"], context) for k, v in action["outputs"].items()
        }
        return combined

    def _run_script(
        self, name: str, script: str, env: Mapping[str, str], shell: list[str]
    ) -> StepResult:
        self.counter += 1
        path = self.temp / f"step-{self.counter}.sh"
        path.write_text(script, encoding="utf-8")
        output_file = self.temp / f"output-{self.counter}"
        env_file = self.temp / f"env-{self.counter}"
        proc = subprocess.run(
            [*shell, str(path)],
            cwd=self.workspace,
            env={
                **self.base_env(),
                **env,
                "GITHUB_OUTPUT": str(output_file),
                "GITHUB_ENV": str(env_file),
            },
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        self.job_env.update(parse_command_file(env_file))
        return StepResult(
            name,
            "success" if proc.returncode == 0 else "failure",
            proc.returncode,
            proc.stdout,
            proc.stderr,
            parse_command_file(output_file),
        )


# --- gh: a recording stand-in for GitHub's REST API (comments, issues, labels) -------------

FAKE_GH = """\
import json, os, sys
from pathlib import Path

state_path = Path(os.environ["FAKE_GH_STATE"])
state = json.loads(state_path.read_text()) if state_path.exists() else {
    "comments": [], "issues": [], "labels": []}
args = sys.argv[1:]
with open(os.environ["FAKE_GH_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")

def opt(name):
    return args[args.index(name) + 1] if name in args else None

def field_file():
    value = opt("-F")
    assert value and value.startswith("body=@"), args
    return Path(value[len("body=@"):]).read_text()

if args[0] == "api":
    method = opt("--method") or "GET"
    path = next(a for a in args[1:] if a.startswith("repos/"))
    if method == "GET" and path.endswith("/comments"):
        assert "--paginate" in args and opt("--jq"), args
        for c in state["comments"]:
            if c["user"] == os.environ["COMMENT_AUTHOR"] and c["body"].startswith(
                    "<!-- portalctl-plan -->"):
                print(c["id"])
    elif method == "POST" and path.endswith("/comments"):
        state["comments"].append({"id": 1000 + len(state["comments"]),
                                  "user": "github-actions[bot]", "body": field_file()})
    elif method == "PATCH" and "/issues/comments/" in path:
        cid = int(path.rsplit("/", 1)[1])
        next(c for c in state["comments"] if c["id"] == cid)["body"] = field_file()
    else:
        sys.exit(f"fake gh: unsupported api call {args}")
elif args[:2] == ["issue", "list"]:
    label = opt("--label")
    open_ = [i for i in state["issues"] if i["state"] == "open" and label in i["labels"]]
    if open_:
        print(open_[0]["number"])
elif args[:2] == ["issue", "create"]:
    number = len(state["issues"]) + 1
    state["issues"].append({"number": number, "title": opt("--title"), "labels": [opt("--label")],
                            "body": Path(opt("--body-file")).read_text(), "state": "open",
                            "comments": []})
    print(f"https://github.com/acme/billing/issues/{number}")
elif args[:2] == ["issue", "edit"]:
    issue = next(i for i in state["issues"] if i["number"] == int(args[2]))
    issue["body"] = Path(opt("--body-file")).read_text()
elif args[:2] == ["issue", "close"]:
    issue = next(i for i in state["issues"] if i["number"] == int(args[2]))
    issue["state"] = "closed"
    issue["comments"].append(opt("--comment"))
elif args[:2] == ["label", "create"]:
    if args[2] not in state["labels"]:
        state["labels"].append(args[2])
else:
    sys.exit(f"fake gh: unsupported command {args}")
state_path.write_text(json.dumps(state))
"""


@dataclass
class GitHub:
    """What the stand-in ``gh`` recorded: the calls and the resulting comments/issues."""

    state_file: Path
    log_file: Path

    @property
    def state(self) -> dict[str, Any]:
        if not self.state_file.exists():
            return {"comments": [], "issues": [], "labels": []}
        loaded: dict[str, Any] = json.loads(self.state_file.read_text())
        return loaded

    @property
    def calls(self) -> list[list[str]]:
        if not self.log_file.exists():
            return []
        return [json.loads(line) for line in self.log_file.read_text().splitlines()]


@pytest.fixture
def github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitHub:
    bin_dir = tmp_path / "gh-bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(f"#!{sys.executable}\n{FAKE_GH}", encoding="utf-8")
    gh.chmod(0o755)
    fake = GitHub(tmp_path / "gh-state.json", tmp_path / "gh-calls.jsonl")
    monkeypatch.setenv("FAKE_GH_STATE", str(fake.state_file))
    monkeypatch.setenv("FAKE_GH_LOG", str(fake.log_file))
    monkeypatch.setenv("FAKE_GH_BIN", str(bin_dir))
    return fake


@pytest.fixture
def workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A repository as `portalctl init` leaves it."""
    repo = tmp_path / "repo"
    assert run(["init", str(repo)]) == ExitCode.OK
    capsys.readouterr()
    return repo


def pull_request_runner(tmp_path: Path, workspace: Path) -> Runner:
    return Runner(
        workspace,
        tmp_path / "scratch",
        event_name="pull_request",
        event={
            "pull_request": {
                "number": 7,
                "head": {"sha": "0123456789abcdef", "repo": {"full_name": "acme/billing"}},
            }
        },
    )


def push_runner(
    tmp_path: Path, workspace: Path, *, name: str = "push", inputs: Mapping[str, Any] | None = None
) -> Runner:
    event_name = "workflow_dispatch" if inputs is not None else "push"
    return Runner(
        workspace,
        tmp_path / f"scratch-{name}",
        event_name=event_name,
        event={"ref": "refs/heads/main"},
        inputs=inputs,
    )


def outcomes(result: JobResult) -> list[tuple[str, str]]:
    return [(step.name, step.outcome) for step in result.steps]


def expected_comment(plan_md: str) -> str:
    return (
        f"{MARKER}\n{plan_md.rstrip()}\n\n<sub>portalctl plan of 0123456. The plan file is the "
        "`portal-plan` artifact of [this run](https://github.com/acme/billing/actions/runs/4242)"
        ".</sub>\n"
    )


# --- the expression evaluator itself ------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("steps.plan.outputs.has_changes == 'true'", True),
        ("steps.plan.outputs.has_changes == 'TRUE'", True),
        ("steps.nope.outputs.has_changes == 'true'", False),
        ("always() && steps.plan.outputs.has_changes == 'true'", True),
        ("inputs.allow-disruptive && '--allow-disruptive' || ''", "--allow-disruptive"),
        ("inputs.missing && '--allow-disruptive' || ''", ""),
        ("github.event.pull_request.head.repo.full_name == github.repository", True),
        ("!(github.event_name == 'push')", True),
        ("success()", True),
    ],
)
def test_expression_evaluator(expression: str, expected: Any) -> None:
    context = {
        "steps": {"plan": {"outputs": {"has_changes": "true"}}},
        "inputs": {"allow-disruptive": True},
        "github": {
            "repository": "acme/billing",
            "event_name": "pull_request",
            "event": {"pull_request": {"head": {"repo": {"full_name": "acme/billing"}}}},
        },
    }
    assert Expr(expression, context).value() == expected


def test_command_files_parse_lines_and_heredocs(tmp_path: Path) -> None:
    path = tmp_path / "out"
    path.write_text("a=1\nb=x=y\nbody<<EOF\nline 1\nline 2\nEOF\nc=\n", encoding="utf-8")
    assert parse_command_file(path) == {"a": "1", "b": "x=y", "body": "line 1\nline 2", "c": ""}


# --- the plan workflow -----------------------------------------------------------------------


def test_plan_workflow_posts_one_sticky_comment_with_the_markdown_plan(
    tmp_path: Path, workspace: Path, github: GitHub
) -> None:
    runner = pull_request_runner(tmp_path, workspace)
    result = runner.run_job(WORKFLOWS / "portal-plan.yml", "plan")
    assert outcomes(result) == [
        ("actions/checkout@v4", "success"),
        ("Validate", "success"),
        ("Plan", "success"),
        ("Upload the plan", "success"),
        ("Write the comment", "success"),
        ("Post or update the comment", "success"),
    ]
    plan = result.step("Plan")
    assert plan.outputs == {
        "has_changes": "true",
        "plan-file": "plan.json",
        "output-file": "plan.md",
        "exit-code": "2",
    }
    assert result.artifacts == {"portal-plan": [workspace / "plan.json", workspace / "plan.md"]}

    plan_md = (workspace / "plan.md").read_text(encoding="utf-8")
    # The file is exactly what `portalctl plan --format markdown` printed (tee'd to the log).
    assert (
        f"portalctl plan portal.yaml --detailed-exitcode --out plan.json --format markdown\n"
        f"{plan_md}" in plan.stdout
    )
    assert "embedded sandbox" in plan.stderr
    assert json.loads((workspace / "plan.json").read_text(encoding="utf-8"))
    # plan appends its markdown to the job summary.
    assert plan_md.strip() in runner.summary.read_text(encoding="utf-8")

    comment = expected_comment(plan_md)
    assert (runner.temp / "portal-plan-comment.md").read_text(encoding="utf-8") == comment
    assert github.state["comments"] == [
        {"id": 1000, "user": "github-actions[bot]", "body": comment}
    ]

    # The next push updates the same comment instead of adding one.
    again = pull_request_runner(tmp_path / "second", workspace)
    assert not again.run_job(WORKFLOWS / "portal-plan.yml", "plan").failed
    assert len(github.state["comments"]) == 1
    methods = [
        call[call.index("--method") + 1] if "--method" in call else "GET" for call in github.calls
    ]
    assert methods == ["GET", "POST", "GET", "PATCH"]
    assert github.calls[-1][:4] == [
        "api",
        "--method",
        "PATCH",
        "repos/acme/billing/issues/comments/1000",
    ]


def test_plan_comment_is_not_posted_for_a_fork(
    tmp_path: Path, workspace: Path, github: GitHub
) -> None:
    runner = pull_request_runner(tmp_path, workspace)
    runner.github["event"]["pull_request"]["head"]["repo"]["full_name"] = "mallory/billing"
    result = runner.run_job(WORKFLOWS / "portal-plan.yml", "plan")
    assert result.step("Write the comment").outcome == "success"
    assert result.step("Post or update the comment").outcome == "skipped"
    assert github.calls == []


def test_a_lint_error_fails_validate_with_an_annotation_and_says_so_in_the_comment(
    tmp_path: Path, workspace: Path, github: GitHub
) -> None:
    template = workspace / "templates" / "payment_failed.html"
    template.write_text(
        template.read_text(encoding="utf-8").replace(
            'href="{{customer_portal_link}}"', 'href="{{customer_portl_link}}"'
        ),
        encoding="utf-8",
    )
    runner = pull_request_runner(tmp_path, workspace)
    result = runner.run_job(WORKFLOWS / "portal-plan.yml", "plan")
    assert outcomes(result) == [
        ("actions/checkout@v4", "success"),
        ("Validate", "failure"),
        ("Plan", "skipped"),
        ("Upload the plan", "skipped"),
        ("Write the comment", "success"),
        ("Post or update the comment", "success"),
    ]
    validate = result.step("Validate")
    assert validate.code == ExitCode.INVALID
    assert validate.outputs == {
        "exit-code": "3",
        "has_changes": "false",
        "plan-file": "",
        "output-file": "",
    }
    assert validate.stdout.splitlines()[-1] == (
        "::error title=portalctl: invalid spec or usage (exit 3)::fix the errors above (they "
        "are annotated on portal.yaml) and push again"
    )
    # The problem matcher the action registers turns the diagnostic into an annotation on
    # the template line that holds the misspelt variable.
    matcher_line = next(
        line for line in validate.stdout.splitlines() if line.startswith("::add-matcher::")
    )
    matcher = json.loads(Path(matcher_line.removeprefix("::add-matcher::")).read_text())
    pattern = matcher["problemMatcher"][0]["pattern"][0]
    hits = [m for m in map(re.compile(pattern["regexp"]).match, validate.stderr.splitlines()) if m]
    line_no = next(
        number
        for number, text in enumerate(template.read_text().splitlines(), 1)
        if "customer_portl_link" in text
    )
    spec_line = next(
        number
        for number, text in enumerate((workspace / "portal.yaml").read_text().splitlines(), 1)
        if "payment_failed:" in text
    )
    assert [
        (m.group(pattern["file"]), m.group(pattern["line"]), m.group(pattern["severity"]))
        for m in hits
    ] == [
        ("templates/payment_failed.html", str(line_no), "error"),
        # ... and the email no longer carries the portal link at all.
        ("portal.yaml", str(spec_line), "warning"),
    ]
    assert "customer_portl_link" in hits[0].group(pattern["message"])
    # The sticky comment no longer shows an older plan as if it were this commit's.
    assert github.state["comments"][0]["body"] == (
        f"{MARKER}\n### portalctl could not plan 0123456\n\n`portalctl validate` failed (exit 3): "
        "the spec is invalid: the errors are annotated on the files. Details in [this run]"
        "(https://github.com/acme/billing/actions/runs/4242); this comment shows the plan again "
        "once a push plans cleanly.\n"
    )


def test_an_unreachable_portal_fails_the_plan_and_says_so_in_the_comment(
    tmp_path: Path, workspace: Path, github: GitHub
) -> None:
    runner = pull_request_runner(tmp_path, workspace)
    runner.vars["PORTAL_API_URL"] = "http://127.0.0.1:9"
    runner.secrets["PORTAL_API_KEY"] = "sk_test_unreachable0000"
    result = runner.run_job(WORKFLOWS / "portal-plan.yml", "plan")
    assert outcomes(result) == [
        ("actions/checkout@v4", "success"),
        ("Validate", "success"),
        ("Plan", "failure"),
        ("Upload the plan", "skipped"),
        ("Write the comment", "success"),
        ("Post or update the comment", "success"),
    ]
    assert result.step("Plan").code == ExitCode.UNREACHABLE
    assert github.state["comments"][0]["body"].startswith(
        f"{MARKER}\n### portalctl could not plan 0123456\n\n`portalctl plan` failed (exit 6): "
        "the portal API is unreachable or rejected the key. Details in [this run]"
    )


# --- the apply workflow ----------------------------------------------------------------------


def test_apply_workflow_applies_once_then_has_nothing_to_do(
    tmp_path: Path, workspace: Path, github: GitHub
) -> None:
    result = push_runner(tmp_path, workspace).run_job(WORKFLOWS / "portal-apply.yml", "apply")
    assert outcomes(result) == [
        ("actions/checkout@v4", "success"),
        ("Plan", "success"),
        ("Apply", "success"),
        ("Keep the applied plan", "success"),
    ]
    apply = result.step("Apply")
    assert apply.outputs["exit-code"] == "0"
    assert "portalctl apply plan.json --auto-approve\n" in apply.stdout

    again = push_runner(tmp_path, workspace, name="again").run_job(
        WORKFLOWS / "portal-apply.yml", "apply"
    )
    assert outcomes(again) == [
        ("actions/checkout@v4", "success"),
        ("Plan", "success"),
        ("Apply", "skipped"),
        ("Keep the applied plan", "skipped"),
    ]
    assert again.step("Plan").outputs["has_changes"] == "false"

    # ... and the pull request comment now says so.
    pr = pull_request_runner(tmp_path / "pr", workspace)
    assert (
        pr.run_job(WORKFLOWS / "portal-plan.yml", "plan").step("Plan").outputs["has_changes"]
        == "false"
    )
    plan_md = (workspace / "plan.md").read_text(encoding="utf-8")
    assert github.state["comments"][0]["body"] == expected_comment(plan_md)
    assert github.calls[-1][2] == "POST"


def test_disruptive_change_needs_the_manual_run_with_allow_disruptive(
    tmp_path: Path, workspace: Path
) -> None:
    assert (
        not push_runner(tmp_path, workspace).run_job(WORKFLOWS / "portal-apply.yml", "apply").failed
    )
    spec = workspace / "portal.yaml"
    spec.write_text(
        spec.read_text(encoding="utf-8").replace(
            "download_invoices: true", "download_invoices: false"
        ),
        encoding="utf-8",
    )

    refused = push_runner(tmp_path, workspace, name="refused").run_job(
        WORKFLOWS / "portal-apply.yml", "apply"
    )
    assert outcomes(refused) == [
        ("actions/checkout@v4", "success"),
        ("Plan", "success"),
        ("Apply", "failure"),
        ("Keep the applied plan", "success"),
    ]
    apply = refused.step("Apply")
    assert apply.code == ExitCode.INVALID
    assert "download_invoices" in apply.stderr
    assert "::error title=portalctl: invalid spec or usage (exit 3)::" in apply.stdout

    manual = push_runner(
        tmp_path, workspace, name="manual", inputs={"allow-disruptive": True}
    ).run_job(WORKFLOWS / "portal-apply.yml", "apply")
    assert not manual.failed
    assert (
        "portalctl apply plan.json --auto-approve --allow-disruptive\n"
        in manual.step("Apply").stdout
    )


# --- the drift workflow ----------------------------------------------------------------------


def test_drift_workflow_opens_updates_and_closes_one_issue(
    tmp_path: Path, workspace: Path, github: GitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    drift = WORKFLOWS / "portal-drift.yml"

    def check(name: str) -> JobResult:
        runner = Runner(workspace, tmp_path / f"scratch-{name}", event_name="schedule", event={})
        return runner.run_job(drift, "drift")

    assert (
        not push_runner(tmp_path, workspace).run_job(WORKFLOWS / "portal-apply.yml", "apply").failed
    )
    in_sync = check("in-sync")
    assert in_sync.step("Check for drift").outputs["has_changes"] == "false"
    assert in_sync.step("Open or update the drift issue").outcome == "skipped"
    assert in_sync.step("Close the drift issue").outcome == "success"
    assert github.state["issues"] == []

    # Someone changes the live portal by hand (here: applies another colour).
    other = workspace / "console-change.yaml"
    other.write_text(
        (workspace / "portal.yaml").read_text(encoding="utf-8").replace('"#1662DD"', '"#0A4FB8"'),
        encoding="utf-8",
    )
    monkeypatch.chdir(workspace)
    assert run(["apply", other.name, "--auto-approve"]) == ExitCode.OK

    drifted = check("drifted")
    assert outcomes(drifted) == [
        ("actions/checkout@v4", "success"),
        ("Check for drift", "success"),
        ("Open or update the drift issue", "success"),
        ("Close the drift issue", "skipped"),
    ]
    step = drifted.step("Check for drift")
    assert step.outputs["has_changes"] == "true"
    assert (
        "::warning title=portalctl: drift::the live portal differs from portal.yaml" in step.stdout
    )
    drift_md = (workspace / "drift.md").read_text(encoding="utf-8")
    assert "0a4fb8" in drift_md.lower()
    [issue] = github.state["issues"]
    assert issue["labels"] == ["portal-drift"]
    assert issue["title"] == "Customer Portal drift: live settings differ from portal.yaml"
    assert issue["body"] == (
        "The live Customer Portal no longer matches `portal.yaml` (checked by [this run]"
        "(https://github.com/acme/billing/actions/runs/4242)).\n"
        "Either apply the spec again, or change the spec to keep what was changed live.\n\n"
        + drift_md
    )

    check("still-drifted")
    assert len(github.state["issues"]) == 1
    assert github.calls[-1][:3] == ["issue", "edit", "1"]

    assert (
        not push_runner(tmp_path, workspace, name="restore")
        .run_job(WORKFLOWS / "portal-apply.yml", "apply")
        .failed
    )
    check("fixed")
    [issue] = github.state["issues"]
    assert issue["state"] == "closed"
    assert issue["comments"] == [
        "The live portal matches `portal.yaml` again "
        "([check](https://github.com/acme/billing/actions/runs/4242))."
    ]


# --- the action's own guards -----------------------------------------------------------------


def one_step_workflow(tmp_path: Path, with_: Mapping[str, str]) -> Path:
    path = tmp_path / "one-step.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "on": "push",
                "jobs": {
                    "run": {
                        "runs-on": "ubuntu-latest",
                        "steps": [
                            {
                                "name": "portalctl",
                                "id": "p",
                                "uses": f"{ACTION}v0.1.0",
                                "with": dict(with_),
                                "env": {"PORTAL_API_KEY": "${{ secrets.PORTAL_API_KEY }}"},
                            },
                        ],
                    }
                },
            }
        ),
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("with_", "error"),
    [
        (
            {"command": "destroy"},
            '::error title=portalctl::unknown command "destroy"; '
            "use validate, plan, apply or drift",
        ),
        (
            {"command": "plan", "args": "--format 'markdown"},
            '::error title=portalctl::cannot split args "--format \'markdown" (unbalanced quotes?)',
        ),
    ],
)
def test_the_action_refuses_bad_inputs_with_exit_3(
    tmp_path: Path, workspace: Path, with_: Mapping[str, str], error: str
) -> None:
    runner = Runner(workspace, tmp_path / "scratch", event_name="push", event={})
    result = runner.run_job(one_step_workflow(tmp_path, with_), "run")
    step = result.step("portalctl")
    assert (step.outcome, step.code) == ("failure", ExitCode.INVALID)
    assert step.stdout.splitlines()[-1] == error
    assert step.outputs == {
        "exit-code": "3",
        "has_changes": "false",
        "plan-file": "",
        "output-file": "",
    }


def test_the_action_masks_the_key_and_never_prints_it(tmp_path: Path, workspace: Path) -> None:
    key = "sk_test_0123456789abcdefSECRET"
    runner = Runner(
        workspace,
        tmp_path / "scratch",
        event_name="push",
        event={},
        secrets={"PORTAL_API_KEY": key},
    )
    workflow = one_step_workflow(
        tmp_path,
        {
            "command": "plan",
            "plan-file": "plan.json",
            "output-file": "plan.md",
            "args": "--format markdown",
        },
    )
    step = runner.run_job(workflow, "run").step("portalctl")
    assert step.outputs["exit-code"] == "2"
    lines = step.stdout.splitlines()
    # The run step masks the key before portalctl can print anything.
    mask = lines.index(f"::add-mask::{key}")
    assert mask < lines.index(
        "portalctl plan portal.yaml --detailed-exitcode --out plan.json --format markdown"
    )
    rest = "\n".join(lines[:mask] + lines[mask + 1 :]) + step.stderr
    assert key not in rest
    for path in (workspace / "plan.json", workspace / "plan.md", runner.summary):
        assert key not in path.read_text(encoding="utf-8")


# --- against a portal over HTTP: the failures apply must make loud ---------------------------


def live_runner(tmp_path: Path, workspace: Path, server: Any, name: str) -> Runner:
    return Runner(
        workspace,
        tmp_path / f"scratch-{name}",
        event_name="push",
        event={"ref": "refs/heads/main"},
        vars={"PORTAL_API_URL": server.url},
        secrets={"PORTAL_API_KEY": server.key},
    )


def test_apply_workflow_stopped_part_way_fails_with_exit_5_then_converges(
    tmp_path: Path, workspace: Path, sandbox_server: Any
) -> None:
    apply_yml = WORKFLOWS / "portal-apply.yml"
    sandbox_server.set_faults(fail_write_numbers=[2])
    broken = live_runner(tmp_path, workspace, sandbox_server, "broken").run_job(apply_yml, "apply")
    assert outcomes(broken) == [
        ("actions/checkout@v4", "success"),
        ("Plan", "success"),
        ("Apply", "failure"),
        ("Keep the applied plan", "success"),
    ]
    apply = broken.step("Apply")
    assert apply.code == ExitCode.PARTIAL
    assert apply.outputs["exit-code"] == "5"
    assert apply.stdout.splitlines()[-1] == (
        "::error title=portalctl: partial apply (exit 5)::apply stopped part way; the log lists "
        "what was and was not applied. Fix the cause and re-run: the next plan shows exactly "
        "what is left"
    )
    assert (
        "portalctl: applied before the failure:\n  ✓ update templates/invoice_created"
        in apply.stderr
    )
    assert "portalctl: NOT applied:\n" in apply.stderr
    assert "apply stopped after 1 of 4 changes" in apply.stderr
    assert (
        sandbox_server.key
        not in apply.stdout.replace(f"::add-mask::{sandbox_server.key}", "") + apply.stderr
    )

    sandbox_server.set_faults()
    fixed = live_runner(tmp_path, workspace, sandbox_server, "fixed").run_job(apply_yml, "apply")
    assert not fixed.failed
    assert fixed.step("Plan").outputs["has_changes"] == "true"
    done = live_runner(tmp_path, workspace, sandbox_server, "done").run_job(apply_yml, "apply")
    assert done.step("Plan").outputs["has_changes"] == "false"
    assert done.step("Apply").outcome == "skipped"


def test_applying_a_stale_plan_fails_with_exit_4_and_writes_nothing(
    tmp_path: Path,
    workspace: Path,
    sandbox_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("PORTAL_API_URL", sandbox_server.url)
    monkeypatch.setenv("PORTAL_API_KEY", sandbox_server.key)
    assert run(["plan", "portal.yaml", "--out", "reviewed.json"]) == ExitCode.OK
    # Someone changes the portal after the plan was reviewed.
    other = workspace / "console-change.yaml"
    other.write_text(
        "version: 1\nportal:\n  branding:\n    company_name: Someone Else\n", encoding="utf-8"
    )
    assert run(["apply", other.name, "--auto-approve"]) == ExitCode.OK
    capsys.readouterr()
    sandbox_server.clear_requests()

    runner = live_runner(tmp_path, workspace, sandbox_server, "stale")
    step = runner.run_job(
        one_step_workflow(
            tmp_path,
            {
                "command": "apply",
                "plan-file": "reviewed.json",
                "args": "--auto-approve",
                "api-url": sandbox_server.url,
            },
        ),
        "run",
    ).step("portalctl")
    assert (step.outcome, step.code) == ("failure", ExitCode.CONFLICT)
    assert step.stdout.splitlines()[-1].startswith("::error title=portalctl: conflict (exit 4)::")
    assert all(r["method"] == "GET" for r in sandbox_server.requests())


def test_an_unreachable_portal_fails_with_exit_6(tmp_path: Path, workspace: Path) -> None:
    runner = Runner(
        workspace,
        tmp_path / "scratch",
        event_name="push",
        event={},
        secrets={"PORTAL_API_KEY": "sk_test_unreachable0000"},
    )
    step = runner.run_job(
        one_step_workflow(tmp_path, {"command": "drift", "api-url": "http://127.0.0.1:9"}), "run"
    ).step("portalctl")
    assert (step.outcome, step.code) == ("failure", ExitCode.UNREACHABLE)
    assert step.outputs == {
        "exit-code": "6",
        "has_changes": "false",
        "plan-file": "",
        "output-file": "",
    }
    assert step.stdout.splitlines()[-1] == (
        "::error title=portalctl: API unreachable or key rejected (exit 6)::check api-url (or "
        "PORTAL_API_URL) and the PORTAL_API_KEY secret"
    )


def test_the_action_plans_a_fleet_from_a_folder(tmp_path: Path, workspace: Path) -> None:
    fleet = workspace / "portals"
    fleet.mkdir()
    shutil.copytree(workspace / "templates", fleet / "templates")
    for name in ("eu", "us"):
        (fleet / f"{name}.yaml").write_bytes((workspace / "portal.yaml").read_bytes())
    runner = Runner(workspace, tmp_path / "scratch", event_name="push", event={})
    step = runner.run_job(
        one_step_workflow(tmp_path, {"command": "plan", "spec": "portals", "plan-file": "plans"}),
        "run",
    ).step("portalctl")
    assert step.outcome == "success", step.stderr
    assert step.outputs == {
        "exit-code": "2",
        "has_changes": "true",
        "plan-file": "plans",
        "output-file": "",
    }
    assert sorted(p.name for p in (workspace / "plans").iterdir()) == [
        "eu.plan.json",
        "us.plan.json",
    ]
