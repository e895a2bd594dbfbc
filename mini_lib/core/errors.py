"""The exception types the CLI turns into one line and an exit code: bad user input above all."""


class ConfigError(ValueError):
    """A parameter, file or setting the user gave is invalid; the message says what to change."""


class TrainingDiverged(RuntimeError):
    """Raised when the loss stops being finite; the last good checkpoint is left untouched."""


class CheckpointError(RuntimeError):
    """A checkpoint that passed its checksums could not be loaded (e.g. written by another library version)."""


def check_fraction(name: str, value: float, *, allow_zero: bool = True, allow_one: bool = True) -> float:
    """Return ``value`` if it is a valid fraction, else raise a ConfigError naming ``name``."""
    low_ok = value > 0 or (allow_zero and value == 0)
    high_ok = value < 1 or (allow_one and value == 1)
    if not (isinstance(value, (int, float)) and low_ok and high_ok):
        bounds = f"{'[' if allow_zero else '('}0, 1{']' if allow_one else ')'}"
        raise ConfigError(f"{name} must be a fraction in {bounds}, got {value!r}")
    return float(value)


def choose(name: str, value: str, valid: "list[str] | tuple[str, ...] | dict") -> str:
    """Return ``value`` if it is one of ``valid``, else raise a ConfigError listing the choices."""
    if value not in valid:
        raise ConfigError(f"unknown {name} {value!r}; choose one of: {', '.join(map(str, valid))}")
    return value
