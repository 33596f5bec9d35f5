import java.lang.System as System
from com.xebialabs.overthere import CmdLine
