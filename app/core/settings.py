"""Every limit and switch, with its default and help text, read once from the environment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EngineName = Literal["duckdb", "spark"]  # the engines of app.run.engines.ENGINES
ToolMode = Literal["auto", "native", "json"]
LLMBackend = Literal["remote", "local"]
IdentityMode = Literal["local", "oidc", "trusted-header"]


def _data_home() -> Path:
    """$XDG_DATA_HOME/ledgerlens, else ~/.local/share/ledgerlens."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ledgerlens"


class Settings(BaseSettings):
    """Ledgerlens settings; environment variables use the prefix LEDGERLENS_."""

    model_config = SettingsConfigDict(
        env_prefix="LEDGERLENS_", extra="ignore", populate_by_name=True
    )

    warehouse_path: Path = Field(
        Path("warehouse/demo.duckdb"),
        description="DuckDB warehouse file to query (built by `ledgerlens data build`).",
    )
    state_path: Path = Field(
        Path("state/ledgerlens.sqlite3"),
        description="SQLite file of the app's own state (conversations, shares, feedback, "
        "verified answers); never the warehouse.",
    )
    local_user: str = Field(
        "local",
        min_length=1,
        description="User id the app keeps conversations, feedback and verifications under "
        "(one local user until the app has sign-in).",
    )
    default_account: str = Field(
        "acct_demo_01", description="Merchant account (merchant_id) used when none is given."
    )
    reporting_currency: str | None = Field(
        None,
        description="Currency totals are converted into when neither the question nor the "
        "request names one; empty means the account's default currency.",
    )
    fiscal_year_start_month: int = Field(
        1, ge=1, le=12, description="Month (1-12) in which the fiscal year starts."
    )
    query_timeout_ms: int = Field(
        5000, gt=0, description="Longest a single query may run before it is interrupted (ms)."
    )
    memory_limit: str = Field("2GB", description="DuckDB memory limit for query execution.")
    threads: int = Field(2, gt=0, description="DuckDB worker threads per query.")
    max_rows: int = Field(
        5000, gt=0, description="Row cap: results are cut at this many rows and marked truncated."
    )
    max_question_chars: int = Field(
        2000, gt=0, description="Longest question accepted, in characters."
    )
    max_conversation_turns: int = Field(
        200, gt=0, description="Most questions kept in one conversation; older turns are dropped."
    )
    api_keys_path: Path | None = Field(
        None,
        description="API key policy file of the HTTP API (`ledgerlens api-key` writes it); "
        "empty means no keys: `ledgerlens serve` then binds only to loopback and serves the "
        "local user.",
    )
    identity_mode: IdentityMode = Field(
        "local",
        description="Who uses the app: `local` (one local user, every account), `oidc` "
        "(Streamlit's st.login; accounts from the access policy) or `trusted-header` (a reverse "
        "proxy names the user in `identity_header`; accounts from the access policy).",
    )
    access_policy_path: Path | None = Field(
        None,
        description="Access policy file (YAML: users and groups to the merchant accounts they "
        "may see and whether they may mark answers verified); needed by `oidc` and "
        "`trusted-header`.",
    )
    identity_header: str | None = Field(
        None,
        description="Request header the reverse proxy sets to the signed-in user in "
        "`trusted-header` mode (e.g. X-Forwarded-Email); the app refuses to serve that mode "
        "without it.",
    )
    identity_proxies: str | None = Field(
        None,
        description="Comma-separated addresses or networks (CIDR) of the reverse proxies whose "
        "`identity_header` is believed in `trusted-header` mode, besides loopback; a connection "
        "from any other address is shown nothing.",
    )
    oidc_provider: str | None = Field(
        None,
        description="Provider name of st.login in `oidc` mode (a section [auth.<name>] of "
        ".streamlit/secrets.toml); empty means the single [auth] provider.",
    )
    embed_secret: SecretStr | None = Field(
        None,
        description="Server secret (32+ characters) that signs and checks HS256 embed tokens "
        "(`ledgerlens token`); empty with no public key means the API takes no embed tokens.",
    )
    embed_public_key_path: Path | None = Field(
        None,
        description="PEM public key that checks RS256 embed tokens signed by the host page's "
        "server; set this or `embed_secret`, not both.",
    )
    embed_audience: str = Field(
        "ledgerlens-api", description="Audience (`aud`) an embed token must name."
    )
    embed_issuer: str = Field("ledgerlens", description="Issuer (`iss`) an embed token must name.")
    embed_max_ttl_s: int = Field(
        3600,
        gt=0,
        description="Longest life (exp - iat, seconds) an embed token may claim; longer ones "
        "are refused.",
    )
    api_rate_per_minute: float = Field(
        60.0,
        gt=0,
        description="Requests per minute one API key or embed token's user may make (the "
        "refill rate of its token bucket); more get 429 with Retry-After.",
    )
    api_rate_burst: int = Field(
        20, gt=0, description="Requests one API key or embed token's user may make at once."
    )
    api_cors_origins: str = Field(
        "",
        description="Comma-separated origins (scheme://host:port) whose pages may call the "
        "API from a browser, e.g. the host page of the embedded assistant; empty: none.",
    )
    ui_rate_limit_per_minute: int = Field(
        30, gt=0, description="Questions one chat session may ask per minute in the app."
    )
    rollups: bool = Field(
        True,
        description="Answer flow metrics from the warehouse's daily rollups when a plan is "
        "covered and the rollup's fingerprint matches the data; off reads the facts always.",
    )
    engine: EngineName = Field(
        "duckdb", description="Query engine: embedded DuckDB (default) or Apache Spark."
    )
    parquet_dir: Path | None = Field(
        None, description="Parquet export (from `ledgerlens data export`) that Spark reads."
    )
    spark_remote: str | None = Field(
        None, description="Spark Connect URL (sc://host:15002); empty means local mode."
    )
    llm_model: str = Field(
        "gpt-4.1-mini", description="Chat model name for the LLM agent (OpenAI-compatible)."
    )
    llm_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("LEDGERLENS_LLM_BASE_URL", "OPENAI_BASE_URL"),
        description="OpenAI-compatible base URL (Ollama, vLLM, Azure...); also read from "
        "OPENAI_BASE_URL.",
    )
    llm_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("LEDGERLENS_LLM_API_KEY", "OPENAI_API_KEY"),
        description="API key for the LLM; also read from OPENAI_API_KEY. Never logged.",
    )
    llm_timeout_s: float = Field(30.0, gt=0, description="Timeout of one LLM request (seconds).")
    llm_max_retries: int = Field(
        2, ge=0, description="Retries of a failed LLM request (429, timeouts) by the client."
    )
    llm_correction_budget: int = Field(
        3, ge=0, description="Times the agent may correct its SQL after a guard or DuckDB error."
    )
    llm_tool_call_budget: int = Field(
        8, gt=0, description="Most tool calls the agent may make for one question."
    )
    llm_context_token_budget: int = Field(
        1500,
        gt=0,
        description="Most tokens of schema and metric context in the agent's first request.",
    )
    llm_tool_mode: ToolMode = Field(
        "auto",
        description="How the agent gets structured replies: `native` tool calls, `json` "
        "(JSON-schema constrained output for every step, for local models without tool calls), "
        "or `auto` (json for a base URL on this machine or a model known to lack tool calls).",
    )
    llm_max_output_tokens: int = Field(
        600,
        gt=0,
        description="Most tokens one LLM reply may have (`max_tokens`); a reply cut there is "
        "refused, not retried.",
    )
    llm: LLMBackend = Field(
        "remote",
        description="Where the agent's model runs: 'remote' is the OpenAI-compatible endpoint "
        "above (if any); 'local' starts (or reuses) the local llama.cpp server of "
        "`ledgerlens llm install` and points the agent at it.",
    )
    llm_local_model: str = Field(
        "qwen2.5-coder-1.5b",
        description="Local model to install and serve (`ledgerlens llm status` lists them).",
    )
    llm_local_port: int = Field(
        8765,
        ge=0,
        le=65535,
        description="Port of the local model server on 127.0.0.1 (0: any free port).",
    )
    llm_local_threads: int = Field(
        1,
        gt=0,
        description="CPU threads of the local model server; on shared cores one is several "
        "times faster than two (llama.cpp's threads wait on each other for every token).",
    )
    llm_local_context: int = Field(
        8192, gt=0, description="Context window of the local model server, in tokens."
    )
    llm_local_start_timeout_s: float = Field(
        300.0, gt=0, description="Longest wait for the local model server to load (seconds)."
    )
    data_dir: Path = Field(
        default_factory=_data_home,
        description="Folder for the app's own files: installed local models and the local "
        "server's state and log.",
    )
    llm_explain: bool = Field(
        True,
        description="When an LLM is configured, let it write the (number-checked) explanation.",
    )

    @model_validator(mode="after")
    def _state_is_not_the_warehouse(self) -> Settings:
        if self.state_path.resolve() == self.warehouse_path.resolve():
            raise ValueError("state_path must not be the warehouse file (warehouse_path)")
        return self

    @property
    def llm_configured(self) -> bool:
        """Whether an API key or an OpenAI-compatible base URL is set."""
        return self.llm_api_key is not None or bool(self.llm_base_url)


def load_settings(**overrides: object) -> Settings:
    """Return settings from the environment, with explicit overrides applied."""
    return Settings(**overrides)  # type: ignore[arg-type]
