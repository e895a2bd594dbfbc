"""What knows every notebook: the notebook session (``notebook``), profiles, the headless runner and its
papermill engine (``runner``, ``execution``), the report, student copies, the ``train`` and ``bench``
commands, and the measured costs shown by ``list``."""
