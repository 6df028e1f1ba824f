"""Install the loopback guard in every Python process the suite starts.

Python imports ``sitecustomize`` at startup from any directory on sys.path, so
putting this directory and tests/compat on PYTHONPATH guards a subprocess
(qualys-cli, a docs snippet) before the client inside it is imported.
"""

import loopback_only

loopback_only.install()
