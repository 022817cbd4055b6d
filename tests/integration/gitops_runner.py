"""A runner for the example workflows and the composite action, step by step, on this machine.

It executes a job of a workflow file the way GitHub Actions would: the ``run:`` scripts of the
workflow and of ``action.yml`` run unchanged in bash, ``${{ }}`` expressions and ``if:``
conditions (of steps and of jobs) are evaluated, ``GITHUB_OUTPUT`` / ``GITHUB_ENV`` /
``GITHUB_STEP_SUMMARY`` are files, ``matrix`` and ``needs`` are what the test passes. What it
cannot run it handles explicitly: ``actions/checkout`` (the workspace is prepared by the
test), ``actions/setup-python`` (the test's interpreter is first on PATH, so the action's
install step finds portalctl already installed), ``actions/upload-artifact`` and
``actions/download-artifact`` (a folder per run stands for the artifact storage; uploads
give an ``artifact-url``). ``gh`` is a recording stand-in for GitHub's REST API (comments and
issues); the portal API is the real sandbox.

Jobs run one at a time: a test runs the jobs of a workflow in the order GitHub would and
hands each the ``needs`` it declares.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.cli import run
from reconciler.errors import ExitCode

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / "examples" / "github" / ".github" / "workflows"
ACTION = "portalctl/portalctl@"
MARKER = "<!-- portalctl-plan -->"
#: What the workflows write into the workspace; a checkout starts without them.
CHECKOUT_CLEANS = ("plan.json", "plan.md", "plans", "preview", "drift.md", "status")


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
    """GitHub's ``==``: strings compare case-insensitively; values of different types are
    compared as numbers (null and '' are 0, true is 1, a non-numeric string is NaN)."""
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    if type(left) is not type(right):
        return as_number(left) == as_number(right)
    return bool(left == right)


def as_number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool | int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip() or 0)
        except ValueError:
            return float("nan")
    return float("nan")


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
    outputs: dict[str, str] = field(default_factory=dict)
    result: str = "success"  # success | failure | skipped (GitHub's needs.<job>.result)

    @property
    def failed(self) -> bool:
        return self.result == "failure"

    def step(self, name: str) -> StepResult:
        return next(s for s in self.steps if s.name == name)

    def as_need(self) -> dict[str, Any]:
        """What a later job sees as ``needs.<this job>``."""
        return {"result": self.result, "outputs": dict(self.outputs)}


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


def action_name(uses: str) -> str:
    """``actions/checkout@<sha>`` -> ``actions/checkout`` (steps without a name are named so)."""
    return uses.partition("@")[0]


class Runner:
    """Runs one job of a workflow file in ``workspace``; see the module docstring.

    ``artifacts`` is the run's artifact storage: pass the same folder to the runners of the
    jobs of one run (a matrix, then a job that downloads what they uploaded).
    """

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
        artifacts: Path | None = None,
    ) -> None:
        self.workspace = workspace
        self.scratch = scratch
        self.temp = scratch / "runner-temp"
        self.summary = scratch / "step-summary.md"
        self.temp.mkdir(parents=True, exist_ok=True)
        # The action's install step skips pip when its marker names the same source: the
        # test's interpreter already has portalctl installed from this checkout.
        (self.temp / "portalctl-installed").write_text(str(REPO), encoding="utf-8")
        self.artifact_store = artifacts or scratch / "artifacts"
        self.github = {
            "event_name": event_name,
            "event": dict(event),
            "ref": str(event.get("ref", "")),
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
            "GITHUB_REPOSITORY": self.github["repository"],
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "RUNNER_TEMP": str(self.temp),
            **{k: v for k, v in os.environ.items() if k.startswith("FAKE_GH_")},
        }

    def run_job(
        self,
        workflow: Path,
        job: str,
        *,
        matrix: Mapping[str, Any] | None = None,
        needs: Mapping[str, JobResult] | None = None,
    ) -> JobResult:
        doc = yaml.safe_load(workflow.read_text(encoding="utf-8"))
        spec = doc["jobs"][job]
        self.matrix = dict(matrix or {})
        self.needs = {name: result.as_need() for name, result in (needs or {}).items()}
        context = self._context(env={})
        workflow_env = {k: interpolate(v, context) for k, v in (doc.get("env") or {}).items()}
        needed_ok = all(n["result"] == "success" for n in self.needs.values())
        condition = str(spec.get("if", "success()"))
        if not truthy(self._condition(condition, context, needed_ok)):
            return JobResult([], {}, result="skipped")
        context = self._context(env=workflow_env)
        job_env = {k: interpolate(v, context) for k, v in (spec.get("env") or {}).items()}
        self.job_env = {**workflow_env, **job_env}
        results: list[StepResult] = []
        artifacts: dict[str, list[Path]] = {}
        step_outputs: dict[str, Any] = {}
        failed = False
        for index, step in enumerate(spec["steps"]):
            name = step.get("name") or action_name(step.get("uses", "")) or f"step {index}"
            context = self._context(env=self.job_env, steps=step_outputs)
            condition = str(step.get("if", "success()"))
            if not truthy(self._condition(condition, context, not failed)):
                results.append(StepResult(name, "skipped"))
                if "id" in step:
                    step_outputs[step["id"]] = {"outputs": {}, "outcome": "skipped"}
                continue
            step_env = {k: interpolate(v, context) for k, v in (step.get("env") or {}).items()}
            uses = step.get("uses", "")
            with_ = {k: interpolate(v, context) for k, v in (step.get("with") or {}).items()}
            if uses.startswith(ACTION):
                result = self._run_action(name, with_, step_env)
            elif uses.startswith("actions/upload-artifact@"):
                result = self._upload(name, with_, artifacts)
            elif uses.startswith("actions/download-artifact@"):
                result = self._download(name, with_)
            elif uses.startswith("actions/checkout@"):
                assert with_.get("persist-credentials") in (False, "False", "false"), step
                # A fresh checkout: what earlier runs wrote is gone, the portal (the sandbox's
                # database under .portal/) is not.
                for leftover in CHECKOUT_CLEANS:
                    path = self.workspace / leftover
                    if path.is_dir():
                        shutil.rmtree(path)
                    elif path.exists():
                        path.unlink()
                result = StepResult(name, "success")
            elif uses.startswith("actions/setup-python@"):
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
            if result.outcome == "failure" and not step.get("continue-on-error"):
                failed = True
        context = self._context(env=self.job_env, steps=step_outputs)
        outputs = {k: interpolate(v, context) for k, v in (spec.get("outputs") or {}).items()}
        return JobResult(results, artifacts, outputs, "failure" if failed else "success")

    def _condition(self, condition: str, context: Mapping[str, Any], ok: bool) -> Any:
        condition = condition.strip().removeprefix("${{").removesuffix("}}")
        if not re.search(r"\b(always|success|failure|cancelled)\(", condition):
            condition = f"success() && ({condition})"  # GitHub's implicit status check
        return Expr(condition, context, failed=not ok).value()

    def _upload(
        self, name: str, with_: Mapping[str, str], artifacts: dict[str, list[Path]]
    ) -> StepResult:
        """Like actions/upload-artifact@v4: the files below the paths' common folder."""
        paths = [self.workspace / p.strip().rstrip("/") for p in with_["path"].split()]
        present = [p for p in paths if p.exists()]
        if len(present) < len(paths) and with_.get("if-no-files-found", "warn") == "error":
            return StepResult(name, "failure", 1, stderr=f"missing: {set(paths) - set(present)}")
        artifacts[with_["name"]] = paths
        if len(present) == 1 and present[0].is_dir():
            root = present[0]
        elif len(present) == 1:
            root = present[0].parent
        else:
            root = Path(os.path.commonpath(present)) if present else self.workspace
        stored = self.artifact_store / with_["name"]
        assert not stored.exists(), f"artifact {with_['name']} uploaded twice"
        stored.mkdir(parents=True)
        for path in present:
            for file in [path] if path.is_file() else sorted(path.rglob("*")):
                if file.is_file():
                    target = stored / file.relative_to(root)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(file, target)
        number = len(list(self.artifact_store.iterdir()))
        url = f"https://github.com/acme/billing/actions/runs/4242/artifacts/{number}"
        outputs = {"artifact-id": str(number), "artifact-url": url}
        return StepResult(name, "success", outputs=outputs)

    def _download(self, name: str, with_: Mapping[str, str]) -> StepResult:
        """Like actions/download-artifact@v4 with ``pattern`` and ``merge-multiple: true``."""
        assert str(with_.get("merge-multiple")).lower() == "true", with_
        dest = self.workspace / with_.get("path", ".")
        found = sorted(self.artifact_store.glob(with_["pattern"]))
        for artifact in found:
            shutil.copytree(artifact, dest, dirs_exist_ok=True)
        return StepResult(name, "success" if found else "failure")

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
            "matrix": getattr(self, "matrix", {}),
            "needs": getattr(self, "needs", {}),
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
elif args[:2] == ["issue", "comment"]:
    issue = next(i for i in state["issues"] if i["number"] == int(args[2]))
    issue["comments"].append(opt("--body"))
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


# --- runners for the usual events -----------------------------------------------------------

#: In CI, apply, drift and export refuse the embedded sandbox unless it is named: the tests
#: name it the way a repository would, with the variable the workflows read.
SANDBOX_VARS = {"PORTAL_API_URL": "sandbox"}


def pull_request_runner(tmp_path: Path, workspace: Path, **kwargs: Any) -> Runner:
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
        **kwargs,
    )


def push_runner(
    tmp_path: Path,
    workspace: Path,
    *,
    name: str = "push",
    inputs: Mapping[str, Any] | None = None,
    vars: Mapping[str, str] = SANDBOX_VARS,
) -> Runner:
    event_name = "workflow_dispatch" if inputs is not None else "push"
    return Runner(
        workspace,
        tmp_path / f"scratch-{name}",
        event_name=event_name,
        event={"ref": "refs/heads/main"},
        inputs=inputs,
        vars=vars,
    )


def outcomes(result: JobResult) -> list[tuple[str, str]]:
    return [(step.name, step.outcome) for step in result.steps]


def portalctl(workspace: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """What ``portalctl ARGS`` prints on stdout in ``workspace`` (a subprocess, as CI runs it)."""
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "portalctl"), *args],
        cwd=workspace,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode in (0, 2), proc.stderr
    return proc.stdout


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
