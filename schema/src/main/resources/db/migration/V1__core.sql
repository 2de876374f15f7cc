-- Tollgate core schema: accounts, keys, upstreams, models and routes, the credit ledger,
-- reservations in flight and the request log. Credits are exact decimals, never floats.

CREATE TABLE accounts (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    tier        text NOT NULL,
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    balance     numeric(38, 12) NOT NULL DEFAULT 0,
    -- Sum of the reservations in flight; what a new request may reserve is balance - reserved.
    reserved    numeric(38, 12) NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id              text PRIMARY KEY,
    account_id      text NOT NULL REFERENCES accounts (id),
    name            text,
    key_hash        text NOT NULL UNIQUE,      -- hex SHA-256 of the plaintext key
    prefix          text NOT NULL,             -- first characters of the key, for humans
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'revoked')),
    models          text[],                    -- NULL: every public model
    credit_limit    numeric(38, 12),           -- NULL: no limit of its own
    credit_used     numeric(38, 12) NOT NULL DEFAULT 0,
    credit_reserved numeric(38, 12) NOT NULL DEFAULT 0 CHECK (credit_reserved >= 0),
    expires_at      timestamptz,
    rate_limits     jsonb,                     -- {"general":..,"image_submit":..,"image_poll":..} RPM overrides
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz
);
CREATE INDEX api_keys_account ON api_keys (account_id);

CREATE TABLE upstreams (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    provider    text NOT NULL CHECK (provider IN ('openai', 'anthropic', 'mock')),
    base_url    text NOT NULL,
    api_key     text NOT NULL DEFAULT '',
    weight      integer NOT NULL DEFAULT 1 CHECK (weight >= 0),
    priority    integer NOT NULL DEFAULT 0,
    enabled     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE models (
    id                  text PRIMARY KEY,
    display_name        text NOT NULL,
    category            text NOT NULL CHECK (category IN ('text', 'image', 'video')),
    capabilities        text[] NOT NULL DEFAULT '{}',
    price_per_request   numeric(38, 12),
    price_input_per_1m  numeric(38, 12),
    price_output_per_1m numeric(38, 12),
    price_per_image     numeric(38, 12),
    price_per_second    numeric(38, 12),
    max_output_tokens   integer,
    enabled             boolean NOT NULL DEFAULT true,
    public              boolean NOT NULL DEFAULT true,
    video_resolutions   text[],
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE model_routes (
    model_id        text NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    position        integer NOT NULL,
    upstream_id     text NOT NULL REFERENCES upstreams (id),
    upstream_model  text NOT NULL,
    PRIMARY KEY (model_id, position)
);
CREATE INDEX model_routes_upstream ON model_routes (upstream_id);

-- Reservations in flight: what a request holds against its account (and key) until settled.
CREATE TABLE reservations (
    request_id  text PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts (id),
    key_id      text REFERENCES api_keys (id),
    amount      numeric(38, 12) NOT NULL CHECK (amount >= 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ledger (
    seq             bigserial PRIMARY KEY,
    entry_id        text NOT NULL UNIQUE,
    account_id      text NOT NULL REFERENCES accounts (id),
    kind            text NOT NULL CHECK (kind IN ('topup', 'settlement', 'adjustment')),
    amount          numeric(38, 12) NOT NULL,
    balance_after   numeric(38, 12) NOT NULL,
    request_id      text,
    reason          text,
    idempotency_key text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_account ON ledger (account_id, seq DESC);
-- A settlement is written once per request; a top-up once per idempotency key.
CREATE UNIQUE INDEX ledger_settlement_once ON ledger (request_id) WHERE kind = 'settlement';
CREATE UNIQUE INDEX ledger_idempotency ON ledger (account_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE request_log (
    request_id      text PRIMARY KEY,
    account_id      text,
    key_id          text,
    model           text,
    endpoint        text NOT NULL,
    status          integer NOT NULL,
    error_code      text,
    latency_ms      integer,
    ttfb_ms         integer,
    input_tokens    bigint,
    output_tokens   bigint,
    credits         numeric(38, 12) NOT NULL DEFAULT 0,
    upstream_id     text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX request_log_account ON request_log (account_id, created_at DESC);
CREATE INDEX request_log_key ON request_log (key_id, created_at DESC);

-- Every change a proxy caches is announced on one channel as '<table>:<id>', so each proxy
-- reloads just that row. Money columns change on every request and are not announced.
CREATE FUNCTION tollgate_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row_id text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        row_id := to_jsonb(OLD) ->> TG_ARGV[0];
    ELSE
        row_id := to_jsonb(NEW) ->> TG_ARGV[0];
    END IF;
    PERFORM pg_notify('tollgate_changes', TG_TABLE_NAME || ':' || row_id);
    RETURN NULL;
END
$$;

CREATE TRIGGER accounts_changed AFTER UPDATE ON accounts FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.tier IS DISTINCT FROM NEW.tier
          OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION tollgate_notify('id');
CREATE TRIGGER api_keys_inserted AFTER INSERT OR DELETE ON api_keys FOR EACH ROW
    EXECUTE FUNCTION tollgate_notify('id');
CREATE TRIGGER api_keys_changed AFTER UPDATE ON api_keys FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.models IS DISTINCT FROM NEW.models
          OR OLD.credit_limit IS DISTINCT FROM NEW.credit_limit
          OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
          OR OLD.rate_limits IS DISTINCT FROM NEW.rate_limits OR OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION tollgate_notify('id');
CREATE TRIGGER upstreams_changed AFTER INSERT OR UPDATE OR DELETE ON upstreams FOR EACH ROW
    EXECUTE FUNCTION tollgate_notify('id');
CREATE TRIGGER models_changed AFTER INSERT OR UPDATE OR DELETE ON models FOR EACH ROW
    EXECUTE FUNCTION tollgate_notify('id');
CREATE TRIGGER model_routes_changed AFTER INSERT OR UPDATE OR DELETE ON model_routes FOR EACH ROW
    EXECUTE FUNCTION tollgate_notify('model_id');
