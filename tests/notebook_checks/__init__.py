"""One module per notebook (named like its package in mini_lib.papers): ``check(results)`` asserts what its smoke
run must show. One file each, so that each notebook's writer edits only its own."""
