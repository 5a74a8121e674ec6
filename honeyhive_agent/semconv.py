"""Span attribute names: HoneyHive's contract and the GenAI conventions."""

from __future__ import annotations

# HoneyHive event attributes (decorators, enrich_span, instrumentors).
EVENT_TYPE = "honeyhive_event_type"
EVENT_NAME = "honeyhive_event_name"
INPUTS = "honeyhive_inputs"
OUTPUTS = "honeyhive_outputs"
CONFIG = "honeyhive_config"
METADATA = "honeyhive_metadata"
METRICS = "honeyhive_metrics"
FEEDBACK = "honeyhive_feedback"
USER_PROPERTIES = "honeyhive_user_properties"
ERROR = "honeyhive_error"

EVENT_TYPES = ("model", "tool", "chain", "session")

# Which enrich fields hold user content (dropped with capture_content off).
CONTENT_FIELDS = frozenset({"inputs", "outputs"})
ENRICH_FIELDS = {
    "inputs": INPUTS,
    "outputs": OUTPUTS,
    "config": CONFIG,
    "metadata": METADATA,
    "metrics": METRICS,
    "feedback": FEEDBACK,
    "user_properties": USER_PROPERTIES,
}

# Session stamping (every span of a tracer).
SESSION_ID = "honeyhive.session_id"
SESSION_NAME = "honeyhive.session_name"
PROJECT = "honeyhive.project"
SOURCE = "honeyhive.source"
TRACELOOP_PREFIX = "traceloop.association.properties."
GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id"
OTEL_SESSION_ID = "session.id"

ERROR_TYPE = "error.type"

# OpenTelemetry GenAI semantic conventions.
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"
GEN_AI_SYSTEM = "gen_ai.system"
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_TEMPERATURE = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P = "gen_ai.request.top_p"
GEN_AI_REQUEST_TOP_K = "gen_ai.request.top_k"
GEN_AI_REQUEST_STOP_SEQUENCES = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_FREQUENCY_PENALTY = "gen_ai.request.frequency_penalty"
GEN_AI_REQUEST_PRESENCE_PENALTY = "gen_ai.request.presence_penalty"
GEN_AI_REQUEST_SEED = "gen_ai.request.seed"
GEN_AI_REQUEST_CHOICE_COUNT = "gen_ai.request.choice.count"
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
GEN_AI_RESPONSE_ID = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages"
GEN_AI_TOOL_DEFINITIONS = "gen_ai.tool.definitions"
GEN_AI_OUTPUT_TYPE = "gen_ai.output.type"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
HTTP_RESPONSE_STATUS_CODE = "http.response.status_code"
