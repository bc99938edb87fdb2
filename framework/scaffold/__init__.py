"""``plait new-plugin``'s templates."""
