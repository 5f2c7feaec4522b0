"""One truth each (issue 25): every setting, folder name and rule below has one source, and
each test fails if a second one appears where it can (a literal restated, a rule re-written).

The source-reading tests walk the syntax tree of colorize/ (not its text), so a comment or
a docstring never trips them; each names the line that broke the rule.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import colorful_image, run_colorize, save_image
from tiny_models import build_ab_model, save_model

from colorize import paths
from colorize.errors import OutputError, UsageError
from colorize.training.runfolder import RESUME_MUST_MATCH

PACKAGE = Path(paths.__file__).resolve().parent


def package_modules() -> dict[str, ast.Module]:
    """Return every module of colorize/ (by its path relative to the package) parsed."""
    return {str(path.relative_to(PACKAGE)): ast.parse(path.read_text(encoding="utf-8"))
            for path in sorted(PACKAGE.rglob("*.py"))}


def nodes_outside(owner: str, wanted) -> list[str]:
    """Return "module:line" for every node `wanted(node)` accepts in modules other than `owner`."""
    return [f"{name}:{node.lineno}" for name, tree in package_modules().items() if name != owner
            for node in ast.walk(tree) if wanted(node)]


def feed(monkeypatch, *answers: str) -> None:
    """Answer the wizard's next questions with `answers` (Enter for "")."""
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{answer}\n" for answer in answers)))


# --- 1. OUTPUT/results is built in paths.py alone -------------------------------------------

def joins_the_results_name(node) -> bool:
    """`something / "results"`: a second builder of OUTPUT/results.

    ("models" is no such sign: data/models and the encoder's weights folder are other folders.)
    """
    return (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, ast.Constant)
            and node.right.value == paths.RESULTS_DIR_NAME)


def test_only_paths_joins_the_results_folder_name():
    assert nodes_outside("paths.py", joins_the_results_name) == []


def test_the_guard_sees_a_results_folder_built_by_hand():
    tree = ast.parse('root = output_root() / "results"')
    assert any(joins_the_results_name(node) for node in ast.walk(tree))


def test_results_root_follows_the_output_root_and_output(tmp_path, output_root):
    assert paths.results_root() == output_root / "results"
    assert paths.models_root() == output_root / "models"
    assert paths.results_root(str(tmp_path / "elsewhere")) == tmp_path / "elsewhere" / "results"


def test_predict_and_evaluate_put_their_run_folders_in_results_root(tmp_path, output_root):
    from colorize.config import EvaluateConfig, PredictConfig
    from colorize.evaluation.evaluate import evaluate_model
    from colorize.inference.predict import colorize_path

    photos = tmp_path / "photos"
    for index in range(2):
        save_image(photos / f"photo{index}.png", colorful_image(32, 32, seed=index))
    model = str(save_model(build_ab_model(), tmp_path / "ab.keras"))
    predicted = colorize_path(PredictConfig(model=model, input=str(photos)))
    assert predicted.output_dir.parent == paths.results_root()
    other = tmp_path / "other-root"
    evaluated = evaluate_model(EvaluateConfig(model=model, data=str(photos), output=str(other)))
    assert Path(evaluated["results_dir"]).parent == paths.results_root(str(other))


# --- 2. the two rules for outputs that would mix with inputs live in paths.py ----------------

def compares_a_path_with_a_folder(node) -> bool:
    """`x in y.parents`, `x.is_relative_to(y)` or a call of paths.is_inside: an overlap rule."""
    if isinstance(node, ast.Compare):
        return any(isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, ast.Attribute)
                   and right.attr == "parents" for op, right in zip(node.ops, node.comparators))
    if isinstance(node, ast.Call):
        function = node.func
        name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
        return name in ("is_relative_to", "is_inside", "commonpath")
    return False


def test_only_paths_tells_whether_an_output_overlaps_the_data():
    assert nodes_outside("paths.py", compares_a_path_with_a_folder) == []


def test_the_guard_sees_an_overlap_rule_written_elsewhere():
    for source in ("inside = data in output.parents", "inside = output.is_relative_to(data)",
                   "inside = is_inside(output, data)"):
        assert any(compares_a_path_with_a_folder(node) for node in ast.walk(ast.parse(source))), source


@pytest.mark.parametrize("where", ["same", "inside"])
def test_train_and_evaluate_rule_refuses_run_folders_in_the_data(tmp_path, where):
    data = tmp_path / "photos"
    data.mkdir()
    output = {"same": data, "inside": data / "OUTPUT"}[where]
    with pytest.raises(OutputError, match="outside"):
        paths.refuse_run_folders_inside_data(str(output), data)


def test_train_and_evaluate_rule_allows_an_output_around_the_data(tmp_path):
    # Their run folders are new ones under OUTPUT/models and OUTPUT/results: beside the data, not in it.
    paths.refuse_run_folders_inside_data(str(tmp_path), tmp_path / "photos")


@pytest.mark.parametrize("where", ["same", "inside", "around"])
def test_predict_rule_refuses_an_output_overlapping_an_input_folder(tmp_path, where):
    photos = tmp_path / "photos"
    output = {"same": photos, "inside": photos / "coloured", "around": tmp_path}[where]
    with pytest.raises(OutputError, match="outside"):
        paths.refuse_output_mixing_with_input(output, photos, input_is_folder=True)


def test_predict_rule_refuses_only_the_folder_that_holds_a_single_input(tmp_path):
    photo = tmp_path / "photos" / "old.jpg"
    with pytest.raises(OutputError, match="holds the input old.jpg"):
        paths.refuse_output_mixing_with_input(photo.parent, photo, input_is_folder=False)
    paths.refuse_output_mixing_with_input(photo.parent / "coloured", photo, input_is_folder=False)


# --- 3. ~ is expanded by paths.expand_home alone ----------------------------------------------

def expands_a_home(node) -> bool:
    """A call of expanduser (os.path's or Path's): a second way of reading ~."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "expanduser"


def test_only_paths_expands_a_home_folder():
    assert nodes_outside("paths.py", expands_a_home) == []
    assert any(expands_a_home(node) for node in ast.walk(package_modules()["paths.py"]))


def test_the_wizard_reads_home_folders_as_the_cli_does(monkeypatch, tmp_path):
    from colorize.frontends import console

    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "photos").mkdir()
    assert console.check_path("~/photos") == paths.expand_home("~/photos") == tmp_path / "photos"
    with pytest.raises(UsageError) as cli_error:
        paths.expand_home("~0/photos")
    with pytest.raises(console.InvalidResponse) as wizard_error:
        console.check_path("~0/photos")
    assert str(wizard_error.value) == str(cli_error.value)


# --- 4. "is this a class head?": of a preset before its model exists, of the model after ------

def reads_a_preset_for_its_encoder(node) -> bool:
    """`"encoder" in settings`: deciding a preset's head from its settings a second time."""
    return (isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant) and node.left.value == "encoder"
            and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops))


def test_only_presets_tells_a_class_head_preset_from_its_settings():
    assert nodes_outside("models/presets.py", reads_a_preset_for_its_encoder) == []
    assert any(reads_a_preset_for_its_encoder(node) for node in ast.walk(package_modules()["models/presets.py"]))


@pytest.mark.parametrize("preset", ["tiny", "cpu", "pretrained"])
def test_a_presets_answer_is_the_answer_of_the_model_it_builds(preset):
    import numpy as np

    from colorize.models import ab_classes, model, presets

    every_colour = ab_classes.ab_classes_from_histogram(np.ones((ab_classes.BINS_PER_SIDE,) * 2))
    built = model.build_model(preset, every_colour if presets.has_class_head(preset) else None)
    assert ab_classes.has_class_head(built) == presets.has_class_head(preset) == (preset == "pretrained")


# --- 5. the front ends' defaults are TrainConfig's (and PredictConfig's, EvaluateConfig's) ---------

def parsed(*argv: str) -> dict:
    """Return the options the real CLI parser gives `argv`."""
    from colorize.frontends import cli

    return vars(cli.build_parser().parse_args(list(argv)))


def config_defaults(config_class) -> dict:
    from dataclasses import MISSING, fields

    return {field.name: field.default for field in fields(config_class) if field.default is not MISSING}


def test_train_without_options_gives_train_config_defaults_value_by_value():
    from colorize.config import TrainConfig
    from colorize.frontends import cli
    from colorize.models.presets import DEFAULT_PRESET, PRESETS

    options = parsed("train", "--data", "x")
    expected = {**config_defaults(TrainConfig), "data": "x"}
    # The two preset-dependent sizes are None on the command line: the preset's, filled in below.
    differing = {name: (options[name], value) for name, value in expected.items()
                 if options[name] != value and name not in ("image_size", "batch_size")}
    assert differing == {}, "flag default != TrainConfig default: " + repr(differing)
    assert options["image_size"] is None and options["batch_size"] is None
    built = cli.train_config_from_args(cli.build_parser().parse_args(["train", "--data", "x"])).to_dict()
    assert built == TrainConfig(data="x").to_dict()
    assert (built["image_size"], built["batch_size"]) == (PRESETS[DEFAULT_PRESET]["image_size"],
                                                          PRESETS[DEFAULT_PRESET]["batch_size"])


def test_predict_and_evaluate_flag_defaults_are_their_configs_defaults():
    from colorize.config import EvaluateConfig, PredictConfig

    for argv, config_class in ((("predict", "--input", "x"), PredictConfig),
                               (("evaluate", "--data", "x"), EvaluateConfig)):
        options = parsed(*argv)
        shared = set(options) & set(config_defaults(config_class)) - {"model", "input", "data"}
        assert {"output", "limit"} <= shared, shared
        differing = {name: (options[name], config_defaults(config_class)[name]) for name in shared
                     if options[name] != config_defaults(config_class)[name]}
        assert differing == {}, f"{argv[0]}: " + repr(differing)


def restates_a_default(node) -> bool:
    """add_argument(..., default=<a literal other than None>): a default stated a second time."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument"
            and any(keyword.arg == "default" and isinstance(keyword.value, ast.Constant)
                    and keyword.value.value is not None for keyword in node.keywords))


def test_the_cli_states_no_default_as_a_literal():
    tree = package_modules()["frontends/cli.py"]
    assert [f"cli.py:{node.lineno}" for node in ast.walk(tree) if restates_a_default(node)] == []
    assert any(restates_a_default(node) for node in ast.walk(ast.parse('train.add_argument("--seed", default=42)')))


def test_the_wizard_judges_best_by_train_configs_monitor_on_enter(monkeypatch):
    from colorize.config import TrainConfig
    from colorize.frontends.wizard import ask_monitor

    feed(monkeypatch, "")
    assert ask_monitor() == TrainConfig().monitor


# --- 6. self-training rounds: one default and one maximum, for both front ends ---------------

def names_a_rounds_constant(node) -> bool:
    """A module-level DEFAULT_ROUNDS / MAX_ROUNDS-like name: a second default or maximum."""
    return (isinstance(node, (ast.Assign, ast.AnnAssign))
            and any(isinstance(target, ast.Name) and target.id.endswith("ROUNDS")
                    for target in (node.targets if isinstance(node, ast.Assign) else [node.target])))


def test_only_constants_sets_the_rounds_default_and_maximum():
    assert nodes_outside("constants.py", names_a_rounds_constant) == []
    assert any(names_a_rounds_constant(node) for node in ast.walk(package_modules()["constants.py"]))


def test_the_wizard_offers_and_bounds_rounds_as_train_config_does(monkeypatch, capsys):
    from colorize.config import TrainConfig
    from colorize.constants import MAX_ROUNDS
    from colorize.frontends.wizard_selftrain import ask_rounds

    feed(monkeypatch, "")
    assert ask_rounds() == TrainConfig().rounds
    feed(monkeypatch, str(MAX_ROUNDS + 1), str(MAX_ROUNDS))
    assert ask_rounds() == MAX_ROUNDS
    assert f"[{TrainConfig().rounds}]" in capsys.readouterr().out


@pytest.mark.parametrize("rounds", [0, "MAX_ROUNDS + 1"])
def test_train_refuses_rounds_out_of_range_in_one_line(tmp_path, capsys, rounds):
    from colorize.constants import MAX_ROUNDS
    from colorize.frontends import cli

    rounds = MAX_ROUNDS + 1 if rounds == "MAX_ROUNDS + 1" else rounds
    code = cli.main(["train", "--data", str(tmp_path), "--teacher", "default", "--unlabeled", str(tmp_path),
                     "--rounds", str(rounds), "--output", str(tmp_path / "OUTPUT")])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(error) == 1 and f"at most {MAX_ROUNDS} (got {rounds})" in error[0], error
    assert not (tmp_path / "OUTPUT").exists()


# --- 7. one list of the settings a continued run must keep -------------------------------------

def names_a_must_match_list(node) -> bool:
    return (isinstance(node, ast.Assign)
            and any(isinstance(target, ast.Name) and target.id.endswith("MUST_MATCH") for target in node.targets))


def test_only_runfolder_lists_the_settings_a_continued_run_keeps():
    assert nodes_outside("training/runfolder.py", names_a_must_match_list) == []


def self_training_config(tmp_path):
    from colorize.config import TrainConfig

    return TrainConfig(data=str(tmp_path / "photos"), teacher=str(tmp_path / "teacher.keras"),
                       unlabeled=str(tmp_path / "album"), rounds=2, output=str(tmp_path / "OUTPUT"),
                       run_name="killed")


def started_with(config, name: str) -> dict:
    """Return the settings of `config` as a run started with another `name` recorded them."""
    return {**config.to_dict(), name: "something else"}


@pytest.mark.parametrize("changed_setting", RESUME_MUST_MATCH)
def test_a_killed_training_run_is_continued_only_with_every_listed_setting_kept(tmp_path, changed_setting):
    import json

    from colorize.constants import BACKUP_DIR_NAME, CONFIG_FILE_NAME
    from colorize.training import runfolder

    config = self_training_config(tmp_path)
    run_dir = paths.models_root(config.output) / config.run_name
    (run_dir / BACKUP_DIR_NAME).mkdir(parents=True)
    (run_dir / BACKUP_DIR_NAME / runfolder.BACKUP_WEIGHTS_NAMES[0]).write_bytes(b"weights")
    (run_dir / BACKUP_DIR_NAME / runfolder.BACKUP_METADATA_NAME).write_text('{"epoch": 1}')
    (run_dir / CONFIG_FILE_NAME).write_text(json.dumps({"settings": config.to_dict()}))
    assert runfolder.open_run_folder(config) == (run_dir, 1)
    (run_dir / CONFIG_FILE_NAME).write_text(json.dumps({"settings": started_with(config, changed_setting)}))
    with pytest.raises(UsageError, match=rf"other settings \({changed_setting} "):
        runfolder.open_run_folder(config)


@pytest.mark.parametrize("changed_setting", RESUME_MUST_MATCH)
def test_a_killed_self_training_is_continued_only_with_the_same_settings_kept(tmp_path, changed_setting):
    import json

    from colorize.training import selftrain

    config = self_training_config(tmp_path)
    folder = paths.models_root(config.output) / config.run_name
    folder.mkdir(parents=True)
    record = {"settings": config.to_dict(), "rounds": []}
    (folder / selftrain.ROUNDS_FILE_NAME).write_text(json.dumps(record))
    assert selftrain.open_self_training(config, lambda message: None)[0] == folder
    (folder / selftrain.ROUNDS_FILE_NAME).write_text(json.dumps({**record,
                                                                 "settings": started_with(config, changed_setting)}))
    with pytest.raises(UsageError, match=rf"other settings \({changed_setting}\)"):
        selftrain.open_self_training(config, lambda message: None)


# --- 8. one version string: colorize/__init__.py's -------------------------------------------

def test_pyproject_reads_the_version_from_the_package():
    tomllib = pytest.importorskip("tomllib")   # Python 3.11 on
    project_file = PACKAGE.parent / "pyproject.toml"
    settings = tomllib.loads(project_file.read_text(encoding="utf-8"))
    assert "version" not in settings["project"] and "version" in settings["project"]["dynamic"]
    assert settings["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "colorize.__version__"}


def assigns_a_version(node) -> bool:
    return (isinstance(node, ast.Assign)
            and any(isinstance(target, ast.Name) and target.id == "__version__" for target in node.targets))


def test_only_the_package_init_writes_the_version_and_the_cli_shows_it():
    import colorize

    assert nodes_outside("__init__.py", assigns_a_version) == []
    finished = run_colorize("--version")
    assert finished.returncode == 0 and finished.stdout.strip() == f"colorize {colorize.__version__}"


# --- 9. constants.py says truly which numbers it holds and where the rest live -----------------

def is_a_number(value) -> bool:
    """A numeric literal, a sum or product of them, or a tuple of them."""
    if isinstance(value, ast.Constant):
        return isinstance(value.value, (int, float)) and not isinstance(value.value, bool)
    if isinstance(value, ast.UnaryOp):
        return is_a_number(value.operand)
    if isinstance(value, ast.BinOp):
        return is_a_number(value.left) and is_a_number(value.right)
    return isinstance(value, ast.Tuple) and bool(value.elts) and all(is_a_number(item) for item in value.elts)


def module_constants(tree: ast.Module, numbers_only: bool) -> set[str]:
    """Return the UPPER_CASE names a module assigns at its top level (those given numbers, if asked)."""
    names = set()
    for statement in tree.body:
        if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            if not numbers_only or is_a_number(statement.value):
                names |= {target.id for target in targets if isinstance(target, ast.Name) and target.id.isupper()}
    return names


def test_every_module_holding_numbers_of_its_own_is_named_in_the_constants_docstring():
    from colorize import constants

    unnamed = [name for name, tree in package_modules().items()
               if name != "constants.py" and module_constants(tree, numbers_only=True) and name not in constants.__doc__]
    assert unnamed == [], "say in constants.py's docstring what these hold, or move their numbers there"


def test_no_constant_of_constants_py_is_defined_again_elsewhere():
    modules = package_modules()
    shared = module_constants(modules["constants.py"], numbers_only=False)
    again = {name: sorted(module_constants(tree, numbers_only=False) & shared)
             for name, tree in modules.items() if name != "constants.py"}
    assert {name: names for name, names in again.items() if names} == {}
