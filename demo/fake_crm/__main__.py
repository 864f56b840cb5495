"""`python -m demo.fake_crm --port 8001`: the fake CRM with the demo client and user."""

from demo.fake_crm.app import main

main()
