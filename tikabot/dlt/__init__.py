"""TRAI DLT: the registered templates a domestic Indian route may send (see README, DLT registration)."""
