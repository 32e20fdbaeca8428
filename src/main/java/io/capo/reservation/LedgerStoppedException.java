package io.capo.reservation;

/** A change that the ledger dropped because Capo is stopping; what is already written stays. */
public final class LedgerStoppedException extends IllegalStateException {

    public LedgerStoppedException(String message) {
        super(message);
    }
}
