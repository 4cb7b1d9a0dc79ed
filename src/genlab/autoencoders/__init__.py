"""Chapter 5.1 autoencoders (and 5.2 VAEs)."""
