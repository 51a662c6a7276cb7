import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendnc.settings")
application = get_wsgi_application()

# Everything loaded so far (Django, the apps, pandas) lives as long as the worker: moving it out
# of the collector's reach halves the huddle page's p95 (bench/bench_huddle.py --gc-freeze),
# whose tail was the cyclic collector re-scanning these objects mid-request.
gc.freeze()
