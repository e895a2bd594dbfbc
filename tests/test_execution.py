"""The runner's papermill engine: one line per finished cell, kernels on IPC sockets (no TCP warning)."""

import nbformat
import papermill

from mini_lib.lab.execution import ENGINE_NAME, IPCKernelManager, cell_line


def test_cell_line_names_the_cell_its_time_and_first_line_of_code():
    assert cell_line(6, 31, 12.44, "# a comment\n\nresult = train(model)\nplot()") == \
        "  cell  7/31     12.4 s  result = train(model)"


def test_a_run_prints_a_line_per_finished_code_cell_and_no_tcp_warning(tmp_path, capfd):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# title"), nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell("print(x + 1)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    source, out = tmp_path / "a.ipynb", tmp_path / "b.ipynb"
    nbformat.write(nb, source)
    papermill.execute_notebook(str(source), str(out), kernel_name="python3", engine_name=ENGINE_NAME,
                               kernel_manager_class=IPCKernelManager, progress_bar=True, cwd=str(tmp_path))
    captured = capfd.readouterr()
    lines = [line for line in captured.out.splitlines() if line.startswith("  cell")]
    assert [line.split()[1] for line in lines] == ["2/3", "3/3"] and lines[1].endswith("print(x + 1)")
    assert "without encryption" not in captured.err + captured.out
    assert nbformat.read(out, as_version=4).cells[2].outputs[0]["text"] == "2\n"
    assert not list(tmp_path.glob("kernel-*"))  # IPC sockets live in the temporary folder, not the notebook's


def test_log_streams_every_cell_output_to_the_runners_stdout_and_stderr(tmp_path, capfd):
    """main: --log sent cell output to papermill's logger at INFO, so stdout never showed."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import sys\nprint('to stdout')\nprint('to stderr', file=sys.stderr)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    source, out = tmp_path / "a.ipynb", tmp_path / "b.ipynb"
    nbformat.write(nb, source)
    papermill.execute_notebook(str(source), str(out), kernel_name="python3", engine_name=ENGINE_NAME,
                               kernel_manager_class=IPCKernelManager, progress_bar=False, log_output=True,
                               cwd=str(tmp_path))
    captured = capfd.readouterr()
    assert "to stdout" in captured.out and "to stderr" in captured.err
