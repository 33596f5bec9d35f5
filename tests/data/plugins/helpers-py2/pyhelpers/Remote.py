# remote commands, as xlr-xldeploy-plugin's LocalCLI.py runs them
from com.xebialabs.overthere.local import LocalConnection

connection = LocalConnection.getLocalConnection()
