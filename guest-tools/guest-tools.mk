# Control-domain image and test guests (filled in by the guest-tools work).
