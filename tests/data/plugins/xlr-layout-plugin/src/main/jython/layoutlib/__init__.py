# Python 2 package of the repository, in src/main/jython only: scripts import it by name
