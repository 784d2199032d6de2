"""ledger append function: a small append in one statement on PostgreSQL

Revision ID: 0020_ledger_append_function
Revises: 0019_ledger_speed

``kp_ledger_append`` appends one entry without an idempotency key: it takes the chain-head
row lock, reads the accounts and their balances, refuses an unknown account or a balance
that would go below zero, fills the entry's ``seq`` and ``prev`` (and its receipt number)
into the canonical bytes the caller encoded, hashes them, and writes the entry, its
postings, the tree nodes it completes, the balances and the head. The chain lock is then
held only while the server runs this one statement and the commit that follows it in the
same round trip, never while a Python thread waits for the GIL between two round trips.

The bytes are those :mod:`ledger.encoding` writes; the ledger's own verification checks
them like any other entry, and a test appends the same entries through this function and
through the Python path and compares every stored byte. SQLite has no such function; its
appends stay in Python (its write lock is in-process there anyway).

Errors carry SQLSTATEs of their own: ``KP001`` unknown account (message: its name),
``KP002`` insufficient balance (message: the account; detail: balance and amount),
``KP003`` a head frontier that does not fit its size. The receipt number it made is left
in the transaction's setting ``kp.receipt`` for the caller's row written after it.
"""

from alembic import op


revision = "0020_ledger_append_function"
down_revision = "0019_ledger_speed"
branch_labels = None
depends_on = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION kp_ledger_append(
    p_kind text,
    p_created timestamptz,
    p_head bytea,
    p_receipt text,
    p_middle bytea,
    p_tail bytea,
    p_accounts text[],
    p_amounts bigint[]
) RETURNS TABLE (entry_seq bigint, entry_hash text, new_balances bigint[])
LANGUAGE plpgsql AS $fn$
DECLARE
    v_seq bigint;
    v_prev text;
    v_frontier bytea;
    v_ids integer[];
    v_old bigint[];
    v_floor boolean[];
    v_new bigint[];
    v_missing text;
    v_receipt text;
    v_body bytea;
    v_raw bytea;
    v_hash text;
    v_size bigint;
    v_node bytea;
    v_level integer;
    v_rest bigint;
    v_len integer;
    v_bits integer;
    i integer;
BEGIN
    SELECT h.seq, h.hash, h.frontier INTO v_seq, v_prev, v_frontier
        FROM ledger_head h WHERE h.id = 1 FOR UPDATE;
    SELECT array_agg(a.id ORDER BY o.ord), array_agg(b.balance ORDER BY o.ord),
           array_agg(b.non_negative ORDER BY o.ord)
        INTO v_ids, v_old, v_floor
        FROM unnest(p_accounts) WITH ORDINALITY AS o(name, ord)
        JOIN ledger_accounts a ON a.name = o.name
        JOIN ledger_balances b ON b.account_id = a.id;
    IF coalesce(array_length(v_ids, 1), 0) <> array_length(p_accounts, 1) THEN
        SELECT o.name INTO v_missing FROM unnest(p_accounts) AS o(name)
            WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.name = o.name)
            ORDER BY o.name LIMIT 1;
        RAISE EXCEPTION USING ERRCODE = 'KP001', MESSAGE = coalesce(v_missing, '');
    END IF;
    v_new := v_old;
    FOR i IN 1 .. array_length(p_accounts, 1) LOOP
        v_new[i] := v_old[i] + p_amounts[i];
        IF v_new[i] < 0 AND v_floor[i] THEN
            RAISE EXCEPTION USING ERRCODE = 'KP002', MESSAGE = p_accounts[i],
                DETAIL = v_old[i]::text || ' ' || p_amounts[i]::text;
        END IF;
    END LOOP;

    v_size := v_seq;
    v_seq := v_seq + 1;
    v_body := p_head;
    IF p_receipt IS NOT NULL THEN  -- as ledger.encoding.receipt_text: at least six digits
        v_receipt := p_receipt || '-' || lpad(v_seq::text, greatest(6, length(v_seq::text)), '0');
        v_body := v_body || convert_to(v_receipt, 'UTF8');
        -- For the caller's row in the same transaction (store.RECEIPT).
        PERFORM set_config('kp.receipt', v_receipt, true);
    END IF;
    v_body := v_body || p_middle || convert_to(v_prev || '","seq":' || v_seq::text, 'UTF8')
        || p_tail;
    v_raw := sha256(v_body);
    v_hash := encode(v_raw, 'hex');
    INSERT INTO ledger_entries (seq, kind, created_at, prev_hash, hash, body, idempotency_key)
        VALUES (v_seq, p_kind, p_created, v_prev, v_hash, v_body, NULL);
    INSERT INTO ledger_postings (seq, pos, account_id, amount)
        SELECT v_seq, (o.ord - 1)::smallint, v_ids[o.ord], o.amount
        FROM unnest(p_amounts) WITH ORDINALITY AS o(amount, ord);

    -- The Merkle frontier (RFC 6962 hashes), as ledger.merkle.frontier_append.
    v_bits := length(replace(v_size::bit(64)::text, '0', ''));
    IF length(v_frontier) <> 32 * v_bits THEN
        RAISE EXCEPTION USING ERRCODE = 'KP003',
            MESSAGE = 'frontier of ' || length(v_frontier) || ' bytes for size ' || v_size;
    END IF;
    v_node := sha256('\x00'::bytea || v_raw);
    v_level := 0;
    v_rest := v_size;
    WHILE v_rest % 2 = 1 LOOP
        v_len := length(v_frontier);
        v_node := sha256('\x01'::bytea || substring(v_frontier FROM v_len - 31 FOR 32) || v_node);
        v_frontier := substring(v_frontier FROM 1 FOR v_len - 32);
        v_level := v_level + 1;
        v_rest := v_rest / 2;
        INSERT INTO ledger_tree_nodes (level, idx, hash)
            VALUES (v_level::smallint, v_size >> v_level, v_node);
    END LOOP;
    v_frontier := v_frontier || v_node;

    UPDATE ledger_balances AS b SET balance = v.bal, last_seq = v_seq
        FROM unnest(v_ids, v_new) AS v(aid, bal) WHERE b.account_id = v.aid;
    UPDATE ledger_head AS h SET seq = v_seq, hash = v_hash, frontier = v_frontier
        WHERE h.id = 1;
    RETURN QUERY SELECT v_seq, v_hash, v_new;
END
$fn$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS kp_ledger_append(text, timestamptz, bytea, text, bytea,"
            " bytea, text[], bigint[])"
        )
