"""``extends:``: a spec laid over its base (issue 12): merge semantics, the file and line
behind every value, base-relative files, and each refusal at the ``extends`` line."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from reconciler.errors import SpecError
from reconciler.model import RESET, DesiredLogo, DesiredTemplate, Origin
from reconciler.spec import load_spec
from reconciler.spec.extends import MAX_DEPTH, merge, repository_root
from reconciler.spec.yamlload import load_yaml, to_python

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean clone: the example spec, its assets and templates, and a .git folder."""
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / ".git").mkdir()
    shutil.copy(EXAMPLES / "portal.yaml", folder / "portal.yaml")
    shutil.copytree(EXAMPLES / "assets", folder / "assets")
    shutil.copytree(EXAMPLES / "templates", folder / "templates")
    monkeypatch.chdir(folder)
    return folder


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def errors(spec: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec(spec)
    return [str(d) for d in caught.value.diagnostics]


# --- merge semantics -------------------------------------------------------------------


def tree(text: str, name: str) -> object:
    loaded = load_yaml(textwrap.dedent(text).encode(), name)
    assert loaded.tree is not None, loaded.diagnostics
    return loaded.tree


def test_mappings_merge_key_by_key_lists_and_scalars_replace() -> None:
    base = tree(
        """\
        a: {x: 1, y: 2, deep: {p: 1, q: 2}}
        items: [1, 2, 3]
        name: base
        only_base: true
        """,
        "base.yaml",
    )
    overlay = tree(
        """\
        a: {y: 20, deep: {q: 30}, z: 4}
        items: [9]
        name: null
        """,
        "over.yaml",
    )
    merged = merge(base, overlay)  # type: ignore[arg-type]
    assert to_python(merged) == {
        "a": {"x": 1, "y": 20, "deep": {"p": 1, "q": 30}, "z": 4},
        "items": [9],
        "name": None,
        "only_base": True,
    }


def test_the_clean_clone_scenario(repo: Path) -> None:
    write(
        repo / "staging.yaml",
        """\
        version: 1
        extends: portal.yaml
        portal:
          branding:
            company_name: Acme Staging
        """,
    )
    base, base_diagnostics = load_spec("portal.yaml")
    staging, diagnostics = load_spec("staging.yaml")
    assert diagnostics == base_diagnostics == []
    assert staging.settings == {
        **base.settings,
        "branding": {"company_name": "Acme Staging", "primary_color": "#1662dd"},
    }
    assert staging.logo == base.logo
    assert staging.templates == base.templates
    assert staging.files == base.files
    assert staging.spec_path == Path("staging.yaml")
    assert staging.sources == (Path("staging.yaml"), Path("portal.yaml"))
    assert base.sources == (Path("portal.yaml"),)
    assert staging.origins["portal.branding.company_name"] == Origin("staging.yaml", 5, 5)
    assert staging.origins["portal.branding.primary_color"] == Origin("portal.yaml", 18, 5)
    assert staging.origins["portal.notifications.invoice_created.subject"] == Origin(
        "portal.yaml", 29, 7
    )
    assert staging.origins["extends"] == Origin("staging.yaml", 2, 1)


def test_an_explicit_null_resets_over_a_base_value(repo: Path) -> None:
    write(
        repo / "envs" / "test.yaml",
        """\
        version: 1
        extends: ../portal.yaml
        portal:
          branding:
            logo: null
        """,
    )
    state, _ = load_spec("envs/test.yaml")
    assert state.logo is RESET
    assert state.origins["portal.branding.logo"] == Origin("envs/test.yaml", 5, 5)
    assert "assets/logo.png" not in state.files


def test_a_chain_of_three_names_the_file_behind_each_value(repo: Path) -> None:
    write(
        repo / "shared" / "eu.yaml",
        """\
        version: 1
        extends: ../portal.yaml
        portal:
          branding:
            primary_color: "#0B5CAD"
          permissions:
            cancel_subscription: true
        """,
    )
    write(
        repo / "envs" / "live.yaml",
        """\
        version: 1
        extends: ../shared/eu.yaml
        target:
          api_key_env: ACME_LIVE_KEY
        portal:
          permissions:
            cancel_subscription: false
        """,
    )
    state, diagnostics = load_spec("envs/live.yaml")
    assert diagnostics == []
    assert state.sources == (Path("envs/live.yaml"), Path("shared/eu.yaml"), Path("portal.yaml"))
    assert state.settings["branding"] == {"company_name": "Acme Cloud", "primary_color": "#0b5cad"}
    assert state.settings["permissions"]["cancel_subscription"] is False
    assert state.target is not None and state.target.api_key_env == "ACME_LIVE_KEY"
    origins = state.origins
    assert origins["portal.branding.primary_color"] == Origin("shared/eu.yaml", 5, 5)
    assert origins["portal.branding.company_name"] == Origin("portal.yaml", 17, 5)
    assert origins["portal.permissions.cancel_subscription"] == Origin("envs/live.yaml", 7, 5)
    assert origins["portal.permissions.download_invoices"] == Origin("portal.yaml", 24, 5)
    assert origins["target.api_key_env"] == Origin("envs/live.yaml", 4, 3)


def test_diagnostics_name_the_file_that_set_the_value(repo: Path) -> None:
    write(
        repo / "envs" / "test.yaml",
        """\
        version: 1
        extends: ../portal.yaml
        portal:
          permissions:
            cancel_subscription: true
          branding:
            primary_color: "#FFEE00"
        """,
    )
    (repo / "portal.yaml").write_text(
        (repo / "portal.yaml").read_text().replace("Acme Cloud", "Acme {{company"),
        encoding="utf-8",
    )
    state, diagnostics = load_spec("envs/test.yaml")
    assert [str(d) for d in diagnostics] == [
        'envs/test.yaml:7:20: warning: portal.branding.primary_color: "#FFEE00" has a '
        "contrast of 1.20:1 with white button text; WCAG AA needs 4.5:1; use a darker shade, "
        'e.g. "#807700" [primary-color-contrast]',
        "envs/test.yaml:5:26: notice: portal.permissions.cancel_subscription: customers can "
        "cancel their subscription themselves; the help article advises using this with care "
        "for retention; keep it if intended [cancel-subscription-enabled]",
    ]
    # company_name is not a template: braces there are plain text.
    assert state.settings["branding"]["company_name"] == "Acme {{company"


def test_an_error_in_a_base_points_into_the_base(repo: Path) -> None:
    write(
        repo / "bases" / "acme.yaml",
        """\
        version: 1
        portal:
          notifications:
            invoice_created:
              subject: "Invoice {{invoice_number"
              body_file: ../templates/invoice_created.html
        """,
    )
    write(repo / "acme.yaml", "version: 1\nextends: bases/acme.yaml\n")
    assert errors("acme.yaml") == [
        "bases/acme.yaml:6:18: error: portal.notifications.invoice_created.body_file: "
        '"../templates/invoice_created.html" points outside the spec\'s folder; copy the '
        "template next to the spec and point at it, e.g. templates/invoice_created.html "
        "[body-file-outside-folder]"
    ]


def test_files_a_base_names_resolve_from_the_base(repo: Path) -> None:
    base = repo / "bases"
    (base / "assets").mkdir(parents=True)
    shutil.copy(repo / "assets" / "logo.png", base / "assets" / "logo.png")
    write(base / "templates" / "paid.html", "<p>Paid. {{customer_portal_link}}</p>\n")
    write(
        base / "brand.yaml",
        """\
        version: 1
        portal:
          branding:
            logo: assets/logo.png
          notifications:
            payment_succeeded:
              subject: Thanks
              body_file: templates/paid.html
        """,
    )
    write(repo / "envs" / "test.yaml", "version: 1\nextends: ../bases/brand.yaml\n")
    state, diagnostics = load_spec("envs/test.yaml")
    assert diagnostics == []
    assert isinstance(state.logo, DesiredLogo)
    assert state.logo.file.abs_path == (base / "assets" / "logo.png").resolve()
    paid = state.templates["payment_succeeded"]
    assert isinstance(paid, DesiredTemplate) and paid.body_file is not None
    assert paid.body == "<p>Paid. {{customer_portal_link}}</p>\n"
    # Paths relative to the spec's folder, as a saved plan records them.
    assert sorted(state.files) == ["../bases/assets/logo.png", "../bases/templates/paid.html"]
    (base / "templates" / "paid.html").unlink()
    assert errors("envs/test.yaml") == [
        "bases/brand.yaml:8:18: error: portal.notifications.payment_succeeded.body_file: "
        '"templates/paid.html" does not exist; the path is relative to the spec\'s folder; '
        "check its spelling [body-file-missing]"
    ]


def test_an_inline_body_replaces_a_base_body_file(repo: Path) -> None:
    write(
        repo / "short.yaml",
        """\
        version: 1
        extends: portal.yaml
        portal:
          notifications:
            payment_failed:
              body: "Update your card: {{customer_portal_link}}"
        """,
    )
    state, diagnostics = load_spec("short.yaml")
    assert diagnostics == []
    failed = state.templates["payment_failed"]
    assert isinstance(failed, DesiredTemplate)
    assert failed.body_file is None
    assert failed.subject == "Action needed: we could not charge your card"
    assert failed.body == "Update your card: {{customer_portal_link}}"


def test_a_secret_in_a_replaced_base_value_is_still_reported(repo: Path) -> None:
    write(
        repo / "base.yaml",
        "version: 1\nportal:\n  branding:\n    company_name: sk_live_exampleDoNotUse1\n",
    )
    write(
        repo / "over.yaml",
        "version: 1\nextends: base.yaml\nportal:\n  branding:\n    company_name: Acme\n",
    )
    found = errors("over.yaml")
    assert found == [
        "base.yaml:4:19: error: portal.branding.company_name: this looks like an API key "
        "(sk_test_/sk_live_…); keys must never be in the spec; remove it, revoke the key if it "
        "was committed, and name the environment variable that holds it in "
        "target.api_key_env [secret-in-spec]"
    ]


def test_a_base_is_a_spec_of_its_own_when_validated_alone(repo: Path) -> None:
    write(repo / "base.yaml", "version: 1\nportal:\n  enabled: true\n")
    write(repo / "partial.yaml", "extends: base.yaml\nportal:\n  enabled: false\n")
    state, _ = load_spec("partial.yaml")  # version comes from the base
    assert state.settings == {"enabled": False}
    assert load_spec("base.yaml")[0].settings == {"enabled": True}
    write(repo / "base.yaml", "portal:\n  enabled: true\n")
    assert errors("base.yaml") == [
        'base.yaml:1:1: error: version: missing required key "version"; add "version: 1" as '
        "the first line [schema]"
    ]


# --- refusals at the extends line --------------------------------------------------------


def test_a_missing_base(repo: Path) -> None:
    write(repo / "staging.yaml", "version: 1\nextends: portl.yaml\n")
    assert errors("staging.yaml") == [
        'staging.yaml:2:10: error: extends: "portl.yaml" does not exist; the path is relative '
        "to the folder of the spec that names it; check its spelling [extends-missing]"
    ]


def test_a_cycle(repo: Path) -> None:
    write(repo / "a.yaml", "version: 1\nextends: b.yaml\nportal: {}\n")
    write(repo / "b.yaml", "version: 1\nportal: {}\nextends: a.yaml\n")
    assert errors("a.yaml") == [
        'b.yaml:3:10: error: extends: "a.yaml" makes a cycle: a.yaml -> b.yaml -> a.yaml; '
        "remove the extends that closes the loop [extends-cycle]"
    ]
    write(repo / "self.yaml", "version: 1\nextends: ./self.yaml\nportal: {}\n")
    assert errors("self.yaml") == [
        'self.yaml:2:10: error: extends: "./self.yaml" makes a cycle: self.yaml -> self.yaml; '
        "remove the extends that closes the loop [extends-cycle]"
    ]


def test_a_base_outside_the_repository(repo: Path) -> None:
    write(repo.parent / "elsewhere.yaml", "version: 1\nportal: {}\n")
    write(repo / "envs" / "test.yaml", "version: 1\nextends: ../../elsewhere.yaml\n")
    assert errors("envs/test.yaml") == [
        'envs/test.yaml:2:10: error: extends: "../../elsewhere.yaml" is outside the '
        "repository that holds this spec; keep the base in the same repository (the folder "
        "holding .git), so one review sees both [extends-outside-repository]"
    ]


def test_a_symlinked_base_leaving_the_repository(repo: Path) -> None:
    write(repo.parent / "elsewhere.yaml", "version: 1\nportal: {}\n")
    (repo / "base.yaml").symlink_to(repo.parent / "elsewhere.yaml")
    write(repo / "over.yaml", "version: 1\nextends: base.yaml\n")
    assert errors("over.yaml")[0].startswith(
        'over.yaml:2:10: error: extends: "base.yaml" is outside the repository'
    )


def test_a_chain_deeper_than_the_limit(repo: Path) -> None:
    assert MAX_DEPTH == 5
    for i in range(1, 7):
        write(repo / f"d{i}.yaml", f"version: 1\nextends: d{i + 1}.yaml\n")
    write(repo / "d7.yaml", "version: 1\nportal: {}\n")
    load_spec("d2.yaml")  # five bases: fine
    assert errors("d1.yaml") == [
        'd6.yaml:2:10: error: extends: "d7.yaml" would be base number 6; at most 5 bases may '
        "be stacked (d1.yaml -> d2.yaml -> d3.yaml -> d4.yaml -> d5.yaml -> d6.yaml -> "
        "d7.yaml); flatten the chain: merge some of these bases into one [extends-too-deep]"
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "42",
            "extends must name one base spec file; write a path relative to this spec, e.g. "
            "extends: ../portal.yaml",
        ),
        (
            "/etc/passwd",
            '"/etc/passwd" is an absolute path; write a path relative to this spec\'s folder, '
            "e.g. extends: ../portal.yaml",
        ),
        ("assets", '"assets" is a directory, not a spec file; name the base\'s .yaml file'),
    ],
)
def test_an_unusable_extends_value(repo: Path, value: str, message: str) -> None:
    write(repo / "over.yaml", f"version: 1\nextends: {value}\n")
    assert errors("over.yaml") == [f"over.yaml:2:10: error: extends: {message} [extends-invalid]"]


def test_the_repository_root_is_found_upwards_else_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "r" / "a" / "b").mkdir(parents=True)
    (tmp_path / "r" / ".git").write_text("gitdir: /elsewhere\n")  # a worktree's .git file
    assert repository_root(tmp_path / "r" / "a" / "b" / "x.yaml") == (tmp_path / "r").resolve()
    (tmp_path / "plain").mkdir()
    monkeypatch.chdir(tmp_path / "plain")
    assert repository_root(tmp_path / "plain" / "x.yaml") == (tmp_path / "plain").resolve()


@pytest.mark.parametrize(
    ("value", "rule", "message"),
    [
        (
            "{base}",
            "yaml-flow-value",
            'an unquoted value starting with "{" is read as a YAML mapping, not as text; quote '
            'the whole value: "{base}"',
        ),
        (
            "#portal.yaml",
            "yaml-comment-value",
            'the value is empty: "#" starts a YAML comment, so #portal.yaml is not read; quote '
            'it: "#portal.yaml"',
        ),
    ],
)
def test_yaml_traps_in_extends(repo: Path, value: str, rule: str, message: str) -> None:
    write(repo / "over.yaml", f"version: 1\nextends: {value}\n")
    assert errors("over.yaml") == [f"over.yaml:2:10: error: extends: {message} [{rule}]"]


def test_every_rule_met_here_is_documented() -> None:
    from reconciler.spec import lint_rules

    documented = {rule for rule, _severity, _text in lint_rules()}
    for rule in ("missing", "invalid", "outside-repository", "cycle", "too-deep"):
        assert f"extends-{rule}" in documented
