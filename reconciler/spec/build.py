"""Build the ``DesiredState`` from a loaded, schema-checked spec, reading the files it names.

Only what the spec names goes into the state (ownership rule), in the API's shape.
Values under a path the schema already rejected are skipped, so one mistake is reported
once, and the rest of the spec is still checked. File problems (missing, outside the
folder, wrong type, too large, not UTF-8) become diagnostics here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.model import (
    BODY_MAX_BYTES,
    LOGO_MAX_BYTES,
    PERMISSIONS,
    RESET,
    DesiredLogo,
    DesiredState,
    DesiredTemplate,
    DesiredTranslation,
    Diagnostic,
    LocalFile,
    Origin,
    ResetToDefault,
    TargetSpec,
    normalise_newlines,
)
from reconciler.spec import files, textcheck
from reconciler.spec.extends import SpecFile
from reconciler.spec.rules import severity
from reconciler.spec.schema import SECRET_PATTERN, is_under
from reconciler.spec.yamlload import YMap, YNode, YScalar, dotted, line_col, walk

Path_ = tuple[str | int, ...]

#: Logos whose width/height is within this range count as "about 4:1".
LOGO_ASPECT_RANGE = (3.5, 4.5)


# eq=False (here and on Built): compared by identity only (nothing compares two by value),
# and Python 3.11 compiles each generated method at start-up (~0.07 ms for __eq__).
@dataclass(frozen=True, eq=False)
class TextSource:
    """Where a template text (subject or body) was written, to point inside it."""

    text: str
    origin: Origin
    path: str
    file_text: str | None = None  # the whole spec (inline) or None (body_file)
    span: tuple[int, int] | None = None  # the scalar's character range in file_text
    file: str | None = None  # body_file display path (positions inside that file)

    def locate(self, token: str, nth: int) -> Origin:
        """The position of the ``nth`` (0-based) occurrence of ``token`` in the text."""
        if self.file is not None:
            index = _nth_index(self.text, token, nth)
            if index >= 0:
                line, col = line_col(self.text, index)
                return Origin(self.file, line, col)
            return self.origin
        if self.file_text is not None and self.span is not None:
            start, end = self.span
            index = _nth_index(self.file_text[start:end], token, nth)
            if index >= 0:
                line, col = line_col(self.file_text, start + index)
                return Origin(self.origin.file, line, col)
        return self.origin


@dataclass(eq=False)
class Built:
    """The state plus what was found while building it."""

    state: DesiredState
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: event (or ``<event>.locales.<tag>`` for a translation) -> (subject source, body
    #: source), for template lint rules: every rule over these covers translations too.
    sources: dict[str, tuple[TextSource, TextSource]] = field(default_factory=dict)


def build_state(tree: YMap, chain: Sequence[SpecFile], file: str, bad: set[Path_]) -> Built:
    """Assemble the ``DesiredState`` from the (merged) ``tree`` of ``chain`` (the spec, then
    the bases it extends); ``file`` is the spec path as the user wrote it."""
    builder = _Builder(tree, chain, file, bad)
    return builder.run()


class _Builder:
    def __init__(self, tree: YMap, chain: Sequence[SpecFile], file: str, bad: set[Path_]):
        self.tree, self.file, self.bad = tree, file, bad
        self.spec_dir = chain[0].path.parent
        self.texts = {item.file: item.loaded.text for item in chain}
        self.dirs = {item.file: item.path.parent for item in chain}
        self.chain_files = tuple(Path(item.file) for item in chain)
        self.diagnostics: list[Diagnostic] = []
        self.sources: dict[str, tuple[TextSource, TextSource]] = {}
        self.translations: dict[str, dict[str, DesiredTranslation | ResetToDefault]] = {}
        #: canonical translation path -> where its key was written (plans point there).
        self.translation_origins: dict[str, Origin] = {}

    def node(self, *path: str) -> YNode | None:
        if is_under(path, self.bad):
            return None
        node: YNode | None = self.tree
        for part in path:
            node = node.entries.get(part) if isinstance(node, YMap) else None
        return node

    def scalar(self, *path: str, kind: type | tuple[type, ...] = str) -> Any:
        node = self.node(*path)
        if isinstance(node, YScalar) and isinstance(node.value, kind):
            return node.value
        return None

    def report(self, rule: str, origin: Origin, path: str, message: str, hint: str | None) -> None:
        self.diagnostics.append(Diagnostic(rule, severity(rule), origin, path, message, hint))

    def run(self) -> Built:
        settings: dict[str, Any] = {}
        enabled = self.scalar("portal", "enabled", kind=bool)
        if enabled is not None:
            settings["enabled"] = enabled
        branding: dict[str, Any] = {}
        name = self.scalar("portal", "branding", "company_name")
        if name is not None:
            branding["company_name"] = name
        color = self.scalar("portal", "branding", "primary_color")
        if color is not None:
            branding["primary_color"] = color.lower()
        if branding:
            settings["branding"] = branding
        permissions = {
            key: value
            for key in PERMISSIONS
            if (value := self.scalar("portal", "permissions", key, kind=bool)) is not None
        }
        if permissions:
            settings["permissions"] = permissions

        target = None
        target_node = self.node("target")
        if isinstance(target_node, YMap):
            target = TargetSpec(
                api_url=self.scalar("target", "api_url"),
                api_key_env=self.scalar("target", "api_key_env"),
            )

        templates = self.templates()
        origins = {dotted(path): node.where for path, node in walk(self.tree) if path}
        state = DesiredState(
            spec_path=Path(self.file),
            settings=settings,
            logo=self.logo(),
            templates=templates,
            target=target,
            origins={**origins, **self.translation_origins},
            sources=self.chain_files,
            translations=self.translations,
        )
        return Built(state, self.diagnostics, self.sources)

    # --- files -------------------------------------------------------------------------

    def logo(self) -> DesiredLogo | ResetToDefault | None:
        node = self.node("portal", "branding", "logo")
        if not isinstance(node, YScalar):
            return None
        if node.value is None:
            return RESET
        if not isinstance(node.value, str):
            return None
        rel, where, path = node.value, node.origin, "portal.branding.logo"
        try:
            real = files.resolve_inside(self.folder_of(node), rel, what="logo")
            data = files.read_capped(real, LOGO_MAX_BYTES)
        except files.FileProblem as problem:
            rule = (
                "logo-outside-folder"
                if problem.kind in ("absolute", "outside")
                else ("logo-missing")
            )
            self.report(rule, where, path, problem.message, problem.hint)
            return None
        if len(data) > LOGO_MAX_BYTES:
            size = real.stat().st_size
            self.report(
                "logo-too-large",
                where,
                path,
                f'"{rel}" is {size} bytes; the limit is {LOGO_MAX_BYTES} bytes (512 KiB)',
                "compress it or reduce its size; 200x50 px is recommended",
            )
            return None
        # Imported here: only a spec naming a logo file needs images (and its dataclass).
        from reconciler.images import RECOMMENDED_LOGO, NotAnImage, dimension_problem, sniff_image

        try:
            info = sniff_image(data)
        except NotAnImage as exc:
            self.report(
                "logo-not-image",
                where,
                path,
                f'"{rel}" {exc}',
                "export the logo as PNG (200x50 px, transparent background) or JPEG",
            )
            return None
        too_odd = dimension_problem(info)
        if too_odd is not None:
            self.report(
                "logo-dimensions",
                where,
                path,
                f'"{rel}" declares {info.width}x{info.height} px; {too_odd}',
                f"export it at the recommended {RECOMMENDED_LOGO} (a transparent PNG)",
            )
            return None
        ratio = info.width / info.height
        low, high = LOGO_ASPECT_RANGE
        if not low <= ratio <= high:
            self.report(
                "logo-aspect",
                where,
                path,
                f'"{rel}" is {info.width}x{info.height} px (about {ratio:.2g}:1); the '
                "portal header shows a 4:1 logo",
                "export it at 200x50 px (or another 4:1 size)",
            )
        if not info.has_alpha:
            what = "a JPEG, which has" if info.content_type == "image/jpeg" else "a PNG with"
            self.report(
                "logo-no-alpha",
                where,
                path,
                f'"{rel}" is {what} no transparency',
                "export a PNG with a transparent background (RGBA)",
            )
        return DesiredLogo(
            files.local_file(self.spec_relative(node, rel), real, data),
            info.content_type,
            info.width,
            info.height,
        )

    def folder_of(self, node: YNode) -> Path:
        """The folder of the file that wrote ``node`` (a base's files are the base's)."""
        return self.dirs.get(node.origin.file, self.spec_dir)

    def spec_relative(self, node: YNode, rel: str) -> str:
        """``rel`` (relative to the file that wrote ``node``) relative to the spec's folder,
        so a saved plan finds a base's files from the spec, as it finds the spec's own."""
        folder = self.folder_of(node)
        if folder == self.spec_dir:
            return rel
        return Path(os.path.relpath(folder / rel, self.spec_dir)).as_posix()

    def templates(self) -> dict[str, DesiredTemplate | ResetToDefault]:
        out: dict[str, DesiredTemplate | ResetToDefault] = {}
        notifications = self.node("portal", "notifications")
        if not isinstance(notifications, YMap):
            return out
        for event, node in notifications.entries.items():
            if is_under(("portal", "notifications", event), self.bad):
                continue
            if isinstance(node, YScalar) and node.value == "default":
                out[event] = RESET
            elif isinstance(node, YMap):
                template = self.template(event, node)
                if template is not None:
                    out[event] = template
                locales = node.entries.get("locales")
                if isinstance(locales, YMap):
                    self.locales(event, locales)
        return out

    def locales(self, event: str, node: YMap) -> None:
        """The ``locales:`` of one event: tags checked and canonical, each translation built."""
        from reconciler.locales import TAG_EXAMPLES, InvalidTag, canonical_tag, is_valid_tag

        base = f"portal.notifications.{event}.locales"
        seen: dict[str, str] = {}
        for written, child in node.entries.items():
            if is_under(("portal", "notifications", event, "locales", written), self.bad):
                continue
            where = child.where
            try:
                tag = canonical_tag(written)
            except InvalidTag as exc:
                hyphenated = written.replace("_", "-")
                hint = (
                    f"write {canonical_tag(hyphenated)} (BCP 47 uses '-')"
                    if is_valid_tag(hyphenated)
                    else f"write a language tag such as {TAG_EXAMPLES}"
                )
                self.report(
                    "locale-tag-invalid",
                    where,
                    f"{base}.{written}",
                    f'"{written}" is not a BCP 47 language tag ({exc})',
                    hint,
                )
                continue
            if tag in seen:
                self.report(
                    "locale-duplicate",
                    where,
                    f"{base}.{written}",
                    f'"{written}" is the same language as "{seen[tag]}" (both are {tag})',
                    f"keep one {tag} translation and remove the other",
                )
                continue
            seen[tag] = written
            self.translation_origins[f"{base}.{tag}"] = where
            if isinstance(child, YScalar) and child.value == "default":
                self.translations.setdefault(event, {})[tag] = RESET
            elif isinstance(child, YMap):
                texts = self.template_texts(child, f"{base}.{written}")
                if texts is None:
                    continue
                subject, body, body_file = texts
                self.sources[f"{event}.locales.{tag}"] = (subject, body)
                self.translations.setdefault(event, {})[tag] = DesiredTranslation(
                    event, tag, subject.text, body.text, body_file
                )

    def template(self, event: str, node: YMap) -> DesiredTemplate | None:
        texts = self.template_texts(node, f"portal.notifications.{event}")
        if texts is None:
            return None
        subject, body, body_file = texts
        self.sources[event] = (subject, body)
        return DesiredTemplate(
            event=event, subject=subject.text, body=body.text, body_file=body_file
        )

    def template_texts(
        self, node: YMap, base: str
    ) -> tuple[TextSource, TextSource, LocalFile | None] | None:
        """Subject and body (inline or ``body_file``) of a template or a translation."""
        subject_node = node.entries.get("subject")
        if not isinstance(subject_node, YScalar) or not isinstance(subject_node.value, str):
            return None
        subject = TextSource(
            subject_node.value,
            subject_node.origin,
            f"{base}.subject",
            self.texts.get(subject_node.origin.file),
            (subject_node.start_index, subject_node.end_index),
        )
        body_node = node.entries.get("body")
        file_node = node.entries.get("body_file")
        body_file: LocalFile | None = None
        if isinstance(body_node, YScalar) and isinstance(body_node.value, str):
            body_text = normalise_newlines(body_node.value)
            if len(body_text.encode("utf-8")) > BODY_MAX_BYTES:
                self.report(
                    "body-too-large",
                    body_node.origin,
                    f"{base}.body",
                    f"the body is {len(body_text.encode('utf-8'))} bytes; the limit is "
                    f"{BODY_MAX_BYTES} bytes (64 KiB)",
                    "shorten the email; link to long content instead",
                )
                return None
            body = TextSource(
                body_text,
                body_node.origin,
                f"{base}.body",
                self.texts.get(body_node.origin.file),
                (body_node.start_index, body_node.end_index),
            )
        elif isinstance(file_node, YScalar) and isinstance(file_node.value, str):
            loaded = self.body_file(file_node, f"{base}.body_file")
            if loaded is None:
                return None
            body, body_file = loaded
        else:
            return None
        return subject, body, body_file

    def body_file(self, node: YScalar, path: str) -> tuple[TextSource, LocalFile] | None:
        rel, where = str(node.value), node.origin
        shown = files.display_path(node.origin.file, rel)
        try:
            real = files.resolve_inside(self.folder_of(node), rel, what="template")
            data = files.read_capped(real, BODY_MAX_BYTES)
        except files.FileProblem as problem:
            rule = (
                "body-file-outside-folder"
                if problem.kind in ("absolute", "outside")
                else ("body-file-missing")
            )
            self.report(rule, where, path, problem.message, problem.hint)
            return None
        if len(data) > BODY_MAX_BYTES:
            self.report(
                "body-file-too-large",
                where,
                path,
                f'"{rel}" is {real.stat().st_size} bytes; the limit is '
                f"{BODY_MAX_BYTES} bytes (64 KiB)",
                "shorten the email; link to long content instead",
            )
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
            self.report(
                "body-file-not-utf8",
                Origin(shown, line, col),
                path,
                f'"{rel}" is not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}',
                "save the template as UTF-8",
            )
            return None
        text = text.removeprefix("\ufeff")
        found = textcheck.first_forbidden(text, multiline=True)
        if found is not None:
            index, char = found
            self.report(
                "control-character",
                Origin(shown, *line_col(text, index)),
                path,
                f'"{rel}" contains {textcheck.char_name(char)}, {textcheck.kind_of(char)}',
                textcheck.hint_for(char, multiline=True),
            )
            return None
        text = normalise_newlines(text)
        match = SECRET_PATTERN.search(text)
        if match:
            line, col = line_col(text, match.start())
            self.report(
                "secret-in-spec",
                Origin(shown, line, col),
                path,
                "this template contains what looks like an API key (sk_test_/sk_live_…)",
                "remove it and revoke the key if it was committed",
            )
            return None
        source = TextSource(text, where, path, file=shown)
        return source, files.local_file(self.spec_relative(node, rel), real, data)


def _nth_index(text: str, token: str, nth: int) -> int:
    index = -1
    for _ in range(nth + 1):
        index = text.find(token, index + 1)
        if index < 0:
            return -1
    return index
