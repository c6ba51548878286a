-- The double-entry ledger: one payments row per payment and entries whose debits and credits both
-- equal the payment's amount. Template: {{writer_role}} is the application role (a quoted identifier),
-- {{writer_role_literal}} the same name as a string literal; the runner substitutes both.

CREATE TABLE payments (
    payment_id    text          PRIMARY KEY CHECK (payment_id <> ''),
    customer_id   text          NOT NULL CHECK (customer_id <> ''),
    amount        numeric(18,2) NOT NULL CHECK (amount > 0),
    currency      text          NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at    timestamptz   NOT NULL,
    origin_region text          NOT NULL CHECK (origin_region <> ''),
    recorded_at   timestamptz   NOT NULL DEFAULT now(),
    UNIQUE (payment_id, currency)  -- the target of the entries' foreign key: an entry's currency is its payment's
);

CREATE TABLE ledger_entries (
    entry_id   bigint        GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payment_id text          NOT NULL,
    account    text          NOT NULL CHECK (account <> ''),
    direction  text          NOT NULL CHECK (direction IN ('debit', 'credit')),
    amount     numeric(18,2) NOT NULL CHECK (amount >= 0),
    currency   text          NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    FOREIGN KEY (payment_id, currency) REFERENCES payments (payment_id, currency),
    UNIQUE (payment_id, account, direction)
);

-- Balanced: per payment, debits = credits = the payment's amount. Checked at COMMIT (deferred), so a
-- transaction may insert the payment and its entries in any order, and one that leaves a payment
-- unbalanced (or without entries) fails as a whole.
CREATE FUNCTION ledger_assert_balanced(target text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    expected numeric;
    debits numeric;
    credits numeric;
BEGIN
    SELECT amount INTO expected FROM payments WHERE payment_id = target;
    IF NOT FOUND THEN
        RETURN;  -- the payment itself is gone (deleted with its entries)
    END IF;
    SELECT coalesce(sum(amount) FILTER (WHERE direction = 'debit'), 0),
           coalesce(sum(amount) FILTER (WHERE direction = 'credit'), 0)
      INTO debits, credits
      FROM ledger_entries WHERE payment_id = target;
    IF debits <> credits OR debits <> expected THEN
        RAISE EXCEPTION 'ledger entries of payment % are unbalanced: debits %, credits %, amount %',
            target, debits, credits, expected
            USING ERRCODE = 'check_violation';
    END IF;
END
$$;

CREATE FUNCTION ledger_check_balanced() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM ledger_assert_balanced(OLD.payment_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM ledger_assert_balanced(NEW.payment_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER payments_balanced
    AFTER INSERT OR UPDATE ON payments
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();

CREATE CONSTRAINT TRIGGER ledger_entries_balanced
    AFTER INSERT OR UPDATE OR DELETE ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();

-- The application role: it logs in with an IAM token on Aurora (rds_iam exists there only) and may
-- only add and read ledger rows.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {{writer_role_literal}}) THEN
        CREATE ROLE {{writer_role}} LOGIN;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') THEN
        GRANT rds_iam TO {{writer_role}};
    END IF;
END
$$;

GRANT SELECT, INSERT ON payments, ledger_entries TO {{writer_role}};
