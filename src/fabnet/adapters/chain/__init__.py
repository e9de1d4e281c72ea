"""Optional chain adapter (extra ``chain``): the escrow contract on an EVM."""
