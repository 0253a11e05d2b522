import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "passcode_portal.settings")

from passcode_portal.fastroutes import FastRoutes

application = FastRoutes(get_wsgi_application())
