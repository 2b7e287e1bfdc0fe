"""The README's and results/README.md's Fashion-MNIST blocks are the committed runs' numbers."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_rendered_blocks_match_the_committed_runs():
    done = subprocess.run([sys.executable, os.path.join(ROOT, "results", "render.py"), "--check"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, ("README blocks differ from results/fashion_mnist_5ep: run "
                                  f"`python results/render.py`\n{done.stdout}{done.stderr}")


def test_render_refuses_a_file_without_its_markers(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "results"))
    import render

    try:
        render.replace_block("no markers here\n", "losses", "body\n", "README.md")
    except SystemExit as e:
        assert "<!-- render:losses -->" in str(e)
    else:
        raise AssertionError("a file without the markers must be refused")
    text = "a\n<!-- render:x -->\nold\n<!-- /render:x -->\nb\n"
    assert render.replace_block(text, "x", "new\n", "f") == "a\n<!-- render:x -->\nnew\n<!-- /render:x -->\nb\n"
